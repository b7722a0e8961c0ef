import OCI

/// The socket families a sandbox may open, for both profiles. Network namespaces fence
/// only the families that have one: AF_VSOCK reaches the hypervisor and the other
/// guests whatever namespace a process is in, and the rarer families (packet, bluetooth,
/// CAN, RDS, TIPC, XDP, ...) are kernel code an escape would aim at. So `socket` and
/// `socketpair` take only AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK; any other family
/// fails with EAFNOSUPPORT, the answer of a kernel built without it, so programs take
/// their fallbacks. Netlink is limited to the protocols ordinary programs read through:
/// NETLINK_ROUTE (getifaddrs, `ip`), NETLINK_SOCK_DIAG (`ss`) and NETLINK_AUDIT (PAM's
/// and login's audit messages); others fail with EPROTONOSUPPORT.
///
/// The comparisons are on the whole 64-bit argument while the kernel reads an `int`:
/// every value outside 0...16 (upper bits set included) is refused by the "greater
/// than" rule, and each value in 0...16 is allowed or refused by name, so no value
/// falls through to the default action.
extension AgentSeccomp {
    static let EAFNOSUPPORT: UInt32 = 97
    static let EPROTONOSUPPORT: UInt32 = 93

    /// AF_UNIX, AF_INET, AF_INET6, AF_NETLINK.
    public static let allowedSocketFamilies: [UInt64] = [1, 2, 10, 16]
    static let highestSocketFamily: UInt64 = 16
    /// NETLINK_ROUTE, NETLINK_SOCK_DIAG, NETLINK_AUDIT.
    public static let allowedNetlinkProtocols: [UInt64] = [0, 4, 9]
    static let netlinkFamily: UInt64 = 16

    static let socketCalls = ["socket", "socketpair"]

    /// Refusals for every family outside the allowed four, and every netlink protocol
    /// outside the allowed three. Disjoint from `socketAllowances`.
    static var socketRefusals: [LinuxSyscall] {
        var rules: [LinuxSyscall] = []
        for family in UInt64(0)...highestSocketFamily where !allowedSocketFamilies.contains(family) {
            rules.append(socket(family: family, .equalTo, .errno, EAFNOSUPPORT))
        }
        rules.append(socket(family: highestSocketFamily, .greaterThan, .errno, EAFNOSUPPORT))
        let highestProtocol = allowedNetlinkProtocols.max() ?? 0
        for proto in UInt64(0)...highestProtocol where !allowedNetlinkProtocols.contains(proto) {
            rules.append(netlink(protocol: proto, .equalTo, .errno, EPROTONOSUPPORT))
        }
        rules.append(netlink(protocol: highestProtocol, .greaterThan, .errno, EPROTONOSUPPORT))
        return rules
    }

    /// For a default-deny profile: the allowed families (netlink with its protocols).
    static var socketAllowances: [LinuxSyscall] {
        allowedSocketFamilies.filter { $0 != netlinkFamily }.map { socket(family: $0, .equalTo, .allow) }
            + allowedNetlinkProtocols.map { netlink(protocol: $0, .equalTo, .allow) }
    }

    /// `socket` and `socketpair` with a family compared by `op`.
    static func socket(family: UInt64, _ op: LinuxSeccompOperator, _ action: LinuxSeccompAction, _ errno: UInt32? = nil) -> LinuxSyscall {
        LinuxSyscall(names: socketCalls, action: action, errnoRet: errno, args: [LinuxSeccompArg(index: 0, value: family, op: op)])
    }

    /// `socket` of the netlink family with a protocol compared by `op`.
    static func netlink(protocol proto: UInt64, _ op: LinuxSeccompOperator, _ action: LinuxSeccompAction, _ errno: UInt32? = nil) -> LinuxSyscall {
        LinuxSyscall(names: ["socket"], action: action, errnoRet: errno, args: [
            LinuxSeccompArg(index: 0, value: netlinkFamily, op: .equalTo),
            LinuxSeccompArg(index: 2, value: proto, op: op),
        ])
    }
}
