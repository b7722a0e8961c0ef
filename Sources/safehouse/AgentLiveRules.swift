import Agent
import Egress
import Flags
import Linux
import Runtime
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// `safehouse agent allow|deny ID RULE...` and `agent rules ID`: a running sandbox's
/// allowlist, changed and read through its warden's control channel (EgressControl).
enum AgentLiveRules {
    static func run(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let id = a.arguments[0]
        let request: EgressControl.Request
        switch a.verb.path {
        case "agent allow": request = EgressControl.Request(.allow, rules: a.trailing)
        case "agent deny": request = EgressControl.Request(.deny, rules: a.trailing)
        default: request = EgressControl.Request(.rules)
        }
        let verb = "agent \(request.operation.rawValue)"
        if request.operation != .rules {
            if request.rules.isEmpty { agentFail("\(verb): name at least one rule after the id") }
            // Checked here with the proxy's own parser: a bad rule is named before the
            // warden is asked, and nothing changes.
            for rule in request.rules {
                do { _ = try AllowRule(rule) } catch {
                    let why = "\(error)"
                    agentFail("\(verb): " + (why.hasPrefix("network.allow: ") ? "rule " + why.dropFirst(15) : why))
                }
            }
        }
        let socket = orFail("\(verb): ") { try controlSocket(of: id, runtime: try global.runtime()) }
        let answer = orFail("\(verb): sandbox \"\(id)\": its warden did not answer: ") { try EgressControl.ask(request, socket: socket) }
        if let error = answer.error { agentFail("\(verb): sandbox \"\(id)\": \(error)") }
        if request.operation == .rules {
            for rule in answer.rules ?? [] { print(TerminalText.escaped(rule.line)) }
        } else {
            for change in answer.changes { print(TerminalText.escaped(change)) }
        }
    }

    /// The control socket of sandbox `id`, or why it has none, in one line.
    static func controlSocket(of id: String, runtime: ContainerRuntime) throws -> String {
        try ContainerID.validate(id)
        guard Files.isDirectory(runtime.store.directory(of: id)) else { throw RuntimeError.containerNotFound(id) }
        let record = try runtime.store.load(id)
        guard record.annotations?[SandboxAnnotation.policy] != nil else {
            throw CLIError("\"\(id)\" is not an agent sandbox (its spec names no \(SandboxAnnotation.policy))")
        }
        let path = runtime.store.directory(of: id) + "/" + EgressControl.socketName
        if Files.exists(path) { return path }
        guard record.liveWardenPid != nil else { throw CLIError("sandbox \"\(id)\" is not running (its warden is gone)") }
        // The warden makes the socket as its proxy starts, just after `create` has
        // returned: a sandbox whose spec has an allowlist gets two seconds for it.
        if record.annotations?[SandboxAnnotation.networkAllow].map({ !$0.isEmpty }) == true {
            for _ in 0..<40 {
                usleep(50_000)
                if Files.exists(path) { return path }
            }
        }
        throw CLIError("sandbox \"\(id)\" has no egress (its policy's network.allow is empty): there is no allowlist to change")
    }
}
