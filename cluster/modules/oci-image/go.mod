// Wrapper module: the image maker (main.go) of cluster/build.py, on
// github.com/google/go-containerregistry at the version vars/versions.yml pins.
module oui.io/platform/cluster/oci-image

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)
