// Command etcd: the same entry point as upstream's go.etcd.io/etcd/v3 main.go, kept in a
// wrapper module because the server module is consumed here as a dependency, where its own
// `replace` lines (to sibling directories of the etcd repository) do not apply.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
