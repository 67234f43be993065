// Copyright (c) 2026 The kovs authors.
//
// Licensed under the Apache License, Version 2.0.
//
// cni-runtime: a minimal container runtime's network side, for the tests.
// It drives CNI plugins the way containerd and CRI-O do, through libcni
// (Debian's golang-github-appc-cni-dev, libcni 1.1.2), from the
// configuration list that kovs-controller wrote, with Debian's loopback
// plugin chained after it:
//
//	cni-runtime [OPTIONS] add CONTAINERID NETNS NAMESPACE NAME
//	cni-runtime [OPTIONS] check CONTAINERID NETNS
//	cni-runtime [OPTIONS] del CONTAINERID [NETNS]
//	cni-runtime [OPTIONS] gc [CONTAINERID/IFNAME]...
//	cni-runtime [OPTIONS] status
//	cni-runtime [OPTIONS] version
//
// libcni 1.1.2 knows the specification up to 1.0.0, so GC and STATUS
// (1.1.0) are run as the specification describes them: each plugin of the
// list that supports 1.1.0 is executed with the list's configuration in
// version 1.1.0, and "cni.dev/valid-attachments" for GC.
//
// ADD prints the result; every error is printed on stderr as
// "code N: MESSAGE: DETAILS" with exit status 1.
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build cni-runtime.go
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
)

var (
	confDir  = flag.String("conf-dir", "/etc/cni/net.d", "directory of the configuration list")
	confName = flag.String("conf", "10-kovs.conflist", "configuration list file name")
	binDirs  = flag.String("path", "/usr/lib/cni", "plugin directories, colon-separated")
	cacheDir = flag.String("cache-dir", "/var/lib/cni", "libcni's cache of results")
	ifName   = flag.String("ifname", "eth0", "the pod's interface name")
	chain    = flag.String("chain", "loopback", "plugin types appended to the list, comma-separated")
)

func fail(err error) {
	var e *types.Error
	if errors.As(err, &e) {
		fmt.Fprintf(os.Stderr, "code %d: %s: %s\n", e.Code, e.Msg, e.Details)
	} else {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
	}
	os.Exit(1)
}

// loadList reads the configuration list and appends the chained plugins.
func loadList() ([]byte, *libcni.NetworkConfigList) {
	raw, err := os.ReadFile(filepath.Join(*confDir, *confName))
	if err != nil {
		fail(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(raw, &m); err != nil {
		fail(err)
	}
	plugins, _ := m["plugins"].([]interface{})
	for _, t := range strings.Split(*chain, ",") {
		if t != "" {
			plugins = append(plugins, map[string]interface{}{"type": t})
		}
	}
	m["plugins"] = plugins
	chained, err := json.Marshal(m)
	if err != nil {
		fail(err)
	}
	list, err := libcni.ConfListFromBytes(chained)
	if err != nil {
		fail(err)
	}
	return chained, list
}

// highestVersion is the version to use for the verbs of 1.1.0: the highest
// of the list's "cniVersions" (or its "cniVersion").
func highestVersion(raw []byte) string {
	var m struct {
		CNIVersion  string   `json:"cniVersion"`
		CNIVersions []string `json:"cniVersions"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		fail(err)
	}
	best := m.CNIVersion
	for _, v := range m.CNIVersions {
		if v > best {
			best = v
		}
	}
	return best
}

// execNew runs 'command' (GC or STATUS) on each plugin of the list that
// supports 'version', with 'extra' members added to its configuration.
func execNew(ctx context.Context, cni *libcni.CNIConfig, raw []byte, command string, extra map[string]interface{}) {
	version := highestVersion(raw)
	var m struct {
		Name    string                   `json:"name"`
		Plugins []map[string]interface{} `json:"plugins"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		fail(err)
	}
	exec := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}}
	for _, p := range m.Plugins {
		ptype, _ := p["type"].(string)
		info, err := cni.GetVersionInfo(ctx, ptype)
		if err != nil {
			fail(err)
		}
		supported := false
		for _, v := range info.SupportedVersions() {
			supported = supported || v == version
		}
		if !supported {
			continue
		}
		p["name"] = m.Name
		p["cniVersion"] = version
		for k, v := range extra {
			p[k] = v
		}
		conf, err := json.Marshal(p)
		if err != nil {
			fail(err)
		}
		path, err := exec.FindInPath(ptype, cni.Path)
		if err != nil {
			fail(err)
		}
		args := &invoke.Args{Command: command, Path: strings.Join(cni.Path, ":")}
		if err := invoke.ExecPluginWithoutResult(ctx, path, conf, args, exec); err != nil {
			fail(err)
		}
	}
}

func main() {
	flag.Parse()
	args := flag.Args()
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: cni-runtime [OPTIONS] add|check|del|gc|status|version ...")
		os.Exit(2)
	}
	ctx := context.Background()
	cni := libcni.NewCNIConfigWithCacheDir(strings.Split(*binDirs, ":"), *cacheDir, nil)
	rt := func(id, netns string, extra ...[2]string) *libcni.RuntimeConf {
		return &libcni.RuntimeConf{
			ContainerID: id,
			NetNS:       netns,
			IfName:      *ifName,
			Args:        append([][2]string{{"IgnoreUnknown", "1"}}, extra...),
			CacheDir:    *cacheDir,
		}
	}
	need := func(n int) {
		if len(args) < n {
			fmt.Fprintf(os.Stderr, "cni-runtime %s: missing arguments\n", args[0])
			os.Exit(2)
		}
	}

	switch args[0] {
	case "add":
		need(5)
		_, list := loadList()
		result, err := cni.AddNetworkList(ctx, list, rt(args[1], args[2],
			[2]string{"K8S_POD_NAMESPACE", args[3]},
			[2]string{"K8S_POD_NAME", args[4]},
			[2]string{"K8S_POD_INFRA_CONTAINER_ID", args[1]}))
		if err != nil {
			fail(err)
		}
		if err := result.Print(); err != nil {
			fail(err)
		}
	case "check":
		need(3)
		_, list := loadList()
		if err := cni.CheckNetworkList(ctx, list, rt(args[1], args[2])); err != nil {
			fail(err)
		}
	case "del":
		need(2)
		netns := ""
		if len(args) > 2 {
			netns = args[2]
		}
		_, list := loadList()
		if err := cni.DelNetworkList(ctx, list, rt(args[1], netns)); err != nil {
			fail(err)
		}
	case "gc":
		raw, _ := loadList()
		valid := []map[string]string{}
		for _, a := range args[1:] {
			i := strings.LastIndex(a, "/")
			if i < 0 {
				fmt.Fprintf(os.Stderr, "%s: not CONTAINERID/IFNAME\n", a)
				os.Exit(2)
			}
			valid = append(valid, map[string]string{"containerID": a[:i], "ifname": a[i+1:]})
		}
		execNew(ctx, cni, raw, "GC", map[string]interface{}{"cni.dev/valid-attachments": valid})
	case "status":
		raw, _ := loadList()
		execNew(ctx, cni, raw, "STATUS", nil)
	case "version":
		_, list := loadList()
		for _, p := range list.Plugins {
			info, err := cni.GetVersionInfo(ctx, p.Network.Type)
			if err != nil {
				fail(err)
			}
			fmt.Printf("%s %s\n", p.Network.Type, strings.Join(info.SupportedVersions(), " "))
		}
	default:
		fmt.Fprintf(os.Stderr, "cni-runtime: unknown verb %s\n", args[0])
		os.Exit(2)
	}
}
