// Command oci-image turns one static binary into a minimal OCI image, written as an image
// archive (the `docker save` layout) that both `docker load` and `ctr images import` accept.
// It is the image maker of cluster/build.py (outputs.image of a row in cluster/components.yml).
//
// The image has one layer: the binary, /etc/passwd and /etc/group with root, nobody and the
// non-root user 65532 ("nonroot", home /home/nonroot), the CA certificates given, and /tmp. No
// shell, no package manager, nothing else. It runs as 65532:65532. Every file time is the
// epoch given (SOURCE_DATE_EPOCH), so the same inputs give the same digests.
//
// The image is assembled with go-containerregistry (empty.Image, mutate, tarball), not by hand.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const (
	uid = 65532
	gid = 65532
)

type labels map[string]string

func (l labels) String() string { return fmt.Sprint(map[string]string(l)) }
func (l labels) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("a label is key=value, not %q", v)
	}
	l[k] = val
	return nil
}

func main() {
	var (
		binary     = flag.String("binary", "", "the static binary (host path)")
		inImage    = flag.String("path", "", "where the binary goes in the image (default /<name of the binary>)")
		ref        = flag.String("ref", "", "image reference, e.g. localhost/oui/coredns:1.15.0")
		out        = flag.String("out", "", "the image archive to write")
		entrypoint = flag.String("entrypoint", "", "JSON list (default [<path>])")
		args       = flag.String("args", "[]", "JSON list: the image's CMD")
		caCerts    = flag.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied to /etc/ssl/certs/ca-certificates.crt")
		epoch      = flag.Int64("epoch", 0, "time of every file and of the image (SOURCE_DATE_EPOCH)")
	)
	lbl := labels{}
	flag.Var(lbl, "label", "key=value (repeatable)")
	flag.Parse()
	if err := run(*binary, *inImage, *ref, *out, *entrypoint, *args, *caCerts, *epoch, lbl); err != nil {
		fmt.Fprintf(os.Stderr, "oci-image: %v\n", err)
		os.Exit(1)
	}
}

func run(binary, inImage, ref, out, entrypoint, args, caCerts string, epoch int64, lbl labels) error {
	if binary == "" || ref == "" || out == "" {
		return fmt.Errorf("-binary, -ref and -out are required")
	}
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("-ref %q: %w", ref, err)
	}
	if err := static(binary); err != nil {
		return err
	}
	if inImage == "" {
		inImage = "/" + path.Base(binary)
	}
	if !path.IsAbs(inImage) {
		return fmt.Errorf("-path %q must be absolute", inImage)
	}
	ep := []string{inImage}
	if entrypoint != "" {
		if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil {
			return fmt.Errorf("-entrypoint %q is not a JSON list: %w", entrypoint, err)
		}
	}
	var cmd []string
	if err := json.Unmarshal([]byte(args), &cmd); err != nil {
		return fmt.Errorf("-args %q is not a JSON list: %w", args, err)
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(caCerts)
	if err != nil {
		return fmt.Errorf("CA certificates (Debian package ca-certificates): %w", err)
	}
	when := time.Unix(epoch, 0).UTC()
	layerTar, err := rootfs(when, inImage, bin, ca)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	cfg := &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: when},
		Config: v1.Config{
			User:       fmt.Sprintf("%d:%d", uid, gid),
			Entrypoint: ep,
			Cmd:        cmd,
			Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
			WorkingDir: "/",
			Labels:     lbl,
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return err
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created:   v1.Time{Time: when},
		CreatedBy: fmt.Sprintf("oci-image: %s at %s, user %d, CA certificates, /tmp", path.Base(binary), inImage, uid),
	}})
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("IMAGE_REF=%s\nIMAGE_ID=%s\nIMAGE_DIGEST=%s\nIMAGE_ARCHIVE=%s\n", tag.String(), id, digest, out)
	return nil
}

// static refuses a dynamically linked binary (it would need a loader and libraries the image
// does not have) and one for another architecture.
func static(binary string) error {
	f, err := elf.Open(binary)
	if err != nil {
		return fmt.Errorf("%s is not an ELF binary: %w", binary, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is built for %s, the image is linux/amd64", binary, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (it names a program interpreter): only static binaries go into these images (CGO_ENABLED=0, gcc -static)", binary)
		}
	}
	return nil
}

type entry struct {
	name     string
	mode     int64
	uid, gid int
	body     []byte
	dir      bool
}

// rootfs writes the layer: directories first (parents before children), every entry owned by
// root except the non-root user's home, all with the same time.
func rootfs(when time.Time, binPath string, bin, ca []byte) ([]byte, error) {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", uid, gid)
	group := "root:x:0:\nnobody:x:65534:\n" + fmt.Sprintf("nonroot:x:%d:\n", gid)
	entries := map[string]entry{
		"etc/passwd":                        {mode: 0o644, body: []byte(passwd)},
		"etc/group":                         {mode: 0o644, body: []byte(group)},
		"etc/ssl/certs/ca-certificates.crt": {mode: 0o644, body: ca},
		"tmp":                               {mode: 0o1777, dir: true},
		"home/nonroot":                      {mode: 0o700, dir: true, uid: uid, gid: gid},
		strings.TrimPrefix(binPath, "/"):    {mode: 0o755, body: bin},
	}
	for n := range entries {
		for d := path.Dir(n); d != "."; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = entry{mode: 0o755, dir: true}
			}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := entries[n]
		h := &tar.Header{Name: n, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: when, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag, h.Name = tar.TypeDir, n+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !e.dir {
			if _, err := tw.Write(e.body); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
