@testable import Agent
import OCI
import Seccomp
import XCTest

/// The socket families of both agent profiles: every family value the kernel could
/// read is decided by a rule (none falls to the default action), and libseccomp
/// accepts the profiles. The kernel's answers are observed in
/// Tests/integration/sockets.bats.
final class AgentSeccompSocketTests: XCTestCase {
    /// The action the profile takes for socket(family, _, proto): nil when no rule
    /// matches (the default action).
    func decision(_ profile: LinuxSeccomp, call: String, family: UInt64, proto: UInt64 = 0) -> (LinuxSeccompAction, UInt32?)? {
        let args: [UInt64] = [family, 1, proto]
        var found: [(LinuxSeccompAction, UInt32?)] = []
        for rule in profile.syscalls ?? [] where rule.names.contains(call) {
            let conditions = rule.args ?? []
            let holds = conditions.allSatisfy { c in
                let v = args[Int(c.index)]
                switch c.op {
                case .equalTo: return v == c.value
                case .greaterThan: return v > c.value
                default: XCTFail("unexpected operator \(c.op)"); return false
                }
            }
            if holds { found.append((rule.action, rule.errnoRet)) }
        }
        XCTAssertLessThanOrEqual(found.count, 1, "\(call)(\(family), proto \(proto)) matches overlapping rules")
        return found.first
    }

    func testOnlyUnixInetInet6AndNetlinkAreOpened() throws {
        for kind in [Policy.SyscallProfile.agent, .minimal] {
            let profile = AgentSeccomp.profile(kind)
            let allowedByDefault = profile.defaultAction == .allow
            for call in ["socket", "socketpair"] {
                for family: UInt64 in Array(0...64) + [0x1_0000_0001, 0x1_0000_0028, UInt64.max] {
                    let d = decision(profile, call: call, family: family)
                    if [1, 2, 10, 16].contains(family) {
                        // Allowed: by the default action (agent) or by a rule (minimal).
                        if allowedByDefault { XCTAssertNil(d, "\(kind) \(call) \(family)") } else if family != 16 || call == "socket" {
                            XCTAssertEqual(d?.0, .allow, "\(kind) \(call) \(family)")
                        }
                    } else {
                        XCTAssertEqual(d?.0, .errno, "\(kind) \(call) \(family)")
                        XCTAssertEqual(d?.1, 97, "\(kind) \(call) \(family): EAFNOSUPPORT")
                    }
                }
            }
            for proto: UInt64 in Array(0...40) + [0x1_0000_0000, UInt64.max] {
                let d = decision(profile, call: "socket", family: 16, proto: proto)
                if [0, 4, 9].contains(proto) {
                    if allowedByDefault { XCTAssertNil(d) } else { XCTAssertEqual(d?.0, .allow, "\(kind) netlink \(proto)") }
                } else {
                    XCTAssertEqual(d?.0, .errno, "\(kind) netlink \(proto)")
                    XCTAssertEqual(d?.1, 93, "\(kind) netlink \(proto): EPROTONOSUPPORT")
                }
            }
            XCTAssertNoThrow(try SeccompProgram.compile(profile), "\(kind)")
        }
    }
}
