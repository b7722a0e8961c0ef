/// How a sandbox with an allowlist reaches the world (the policy's `network.mode`):
///
/// - `explicit`: the proxies its programs are told about (`HTTP_PROXY` at
///   127.0.0.1:3128, `ALL_PROXY` SOCKS5 at 127.0.0.1:1080); nothing else has a route.
/// - `transparent`: no proxy settings; every TCP connection is captured in the
///   sandbox's network namespace and decided by the warden, and its DNS is answered
///   by the warden (TransparentCapture).
/// - `both` (the default): the two together, for programs that honour the variables
///   and those that do not.
import ContainerCore
public enum EgressMode: String, Sendable, CaseIterable {
    case explicit, transparent, both

    public var servesProxies: Bool { self != .transparent }
    public var capturesConnections: Bool { self != .explicit }
}
