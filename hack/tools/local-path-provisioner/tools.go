//go:build tools

// Package tools pins the storage provisioner of kind clusters (the default StorageClass), at the
// version kind v0.30.0 builds its image from (images/local-path-provisioner/Makefile, VERSION).
package tools

import _ "github.com/rancher/local-path-provisioner"
