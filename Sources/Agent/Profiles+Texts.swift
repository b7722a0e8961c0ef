// Generated from bundles/policies/*.yaml by hack/gen-profiles; do not edit by hand.
// The profiles are compiled in so that `--policy NAME` and the io.safehouse.policy
// annotation work wherever the binary is (an engine runs it from anywhere).
// AgentTests checks that these texts equal the files.

extension Profiles {
    /// The shipped profile names, sorted.
    public static let names = ["default", "offline-strict", "web"]

    /// A switch, not a dictionary: `agent run` looks up one profile once, and a
    /// dictionary of every text would be built (hashed) first.
    static func literal(_ name: String) -> String? {
        switch name {
        case "default": return #"""
# default: the sandbox `safehouse agent run` uses unless told otherwise.
# No network at all (loopback only), modest limits, root only inside a user
# namespace mapped to a host id range no /etc/subuid or /etc/subgid entry
# covers, the image root writable but ephemeral (changes vanish with the
# sandbox; only /output outlives it). Every other policy is laid over this one:
# a field it omits keeps the value here.
description: no network, modest limits, ephemeral root
filesystem:
  scratch: 256Mi        # each of /scratch and /tmp
  readonlyRoot: false
limits:
  memory: 1Gi
  cpus: 1
  pids: 256
  timeout: 10m
  disk: 1Gi             # the ephemeral upper layer: all writes to the root
user:
  uid: 0
  gid: 0
  userNamespace: true
  idCount: 65536       # host ids: a range from the reserved pool, clear of /etc/subuid and /etc/subgid
capabilities: [CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_NET_BIND_SERVICE]
workdir: /scratch
syscalls: agent
backend: native
"""#
        case "offline-strict": return #"""
# offline-strict: for code nobody has read. No network, read-only everything but
# /scratch, /tmp and /output, no capabilities, only the system calls ordinary
# programs use, tight limits.
description: no network, read-only root, minimal syscalls, tight limits
filesystem:
  scratch: 64Mi
  readonlyRoot: true
limits:
  memory: 512Mi
  cpus: 0.5
  pids: 64
  timeout: 2m
  disk: 16Mi
user:
  uid: 0
  gid: 0
  userNamespace: true
  idCount: 65536       # host ids: a range from the reserved pool, clear of /etc/subuid and /etc/subgid
capabilities: []
workdir: /scratch
syscalls: minimal
backend: native
"""#
        case "web": return #"""
# web: the default sandbox plus egress, through the allowlist proxy, to the common
# package registries and code hosts (no other destination; private, loopback and
# metadata addresses are refused by the proxy).
description: default limits, egress to package registries and code hosts
filesystem:
  scratch: 256Mi
  readonlyRoot: false
limits:
  memory: 2Gi
  cpus: 2
  pids: 512
  timeout: 30m
  disk: 4Gi
user:
  uid: 0
  gid: 0
  userNamespace: true
  idCount: 65536       # host ids: a range from the reserved pool, clear of /etc/subuid and /etc/subgid
capabilities: [CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_NET_BIND_SERVICE]
workdir: /scratch
syscalls: agent
backend: native
network:
  allow:
    - pypi.org
    - files.pythonhosted.org
    - registry.npmjs.org
    - registry.yarnpkg.com
    - crates.io
    - static.crates.io
    - index.crates.io
    - proxy.golang.org
    - sum.golang.org
    - rubygems.org
    - repo.maven.apache.org
    - deb.debian.org
    - github.com
    - "*.github.com"
    - "*.githubusercontent.com"
    - gitlab.com
    - bitbucket.org
"""#
        default: return nil
        }
    }
}
