// Command coredns: CoreDNS with only the plugins the test cluster's DNS needs (the upstream
// binary links ~60, among them cloud DNS providers); template answers the ingress domain's
// records (cluster/node/dns.sh). Same entry point as upstream's coredns.go; the directive order is upstream's
// (core/dnsserver/zdirectives.go), filtered.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

func init() {
	dnsserver.Directives = []string{
		"reload", "bind", "ready", "health", "errors", "log", "loadbalance", "cache", "template", "kubernetes", "forward",
	}
}

func main() {
	coremain.Run()
}
