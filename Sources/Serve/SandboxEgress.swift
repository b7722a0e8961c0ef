import Egress
import Foundation
import SandboxInterface

/// A sandbox's live allowlist and egress figures, through its warden's control channel
/// (`<runtime root>/<id>/egress.sock`, SandboxInterface's EgressControl): what
/// `safehouse agent allow|deny|rules` do, for the API. The service relays: the warden
/// records the service's process by the kernel's word and the API client it names.
struct SandboxEgress {
    let socket: String
    let record: SandboxRecord

    /// The control socket of a served sandbox, or 409 when it has no egress.
    init(_ record: SandboxRecord, store: SandboxStore) throws {
        self.record = record
        socket = "\(store.runtime.root)/\(record.id)/\(EgressControl.socketName)"
        // A sandbox whose init has died is not running, even while its warden, writing
        // its report, still answers on the socket for a moment.
        if FileManager.default.fileExists(atPath: socket) {
            guard Routes.isAlive(record.pid) else { throw APIError.conflict("sandbox \(record.id) is not running (its process has ended)") }
            return
        }
        // The warden makes the socket as its proxy starts, just after the runtime's
        // `run` returned: a sandbox whose spec has an allowlist gets two seconds for it.
        if Self.hasAllowlist(bundle: store.records.bundle(record.id)) {
            for _ in 0..<40 {
                usleep(50_000)
                if FileManager.default.fileExists(atPath: socket) { return }
            }
            guard Routes.isAlive(record.pid) else { throw APIError.conflict("sandbox \(record.id) is not running (its warden is gone)") }
        }
        throw APIError.conflict("sandbox \(record.id) has no egress (its policy's network.allow is empty): there is no allowlist to change")
    }

    /// Whether the sandbox's spec gives it an egress allowlist (the annotation `agent
    /// spec` writes from network.allow).
    static func hasAllowlist(bundle: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: bundle + "/config.json"),
              let spec = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let annotations = spec["annotations"] as? [String: String] else { return false }
        return !(annotations["io.safehouse.network.allow"] ?? "").isEmpty
    }

    /// The rules of an allow or deny body: a non-empty list of rules the proxy's own
    /// parser reads, each bad one named by its index.
    static func rules(_ body: JSONObject) throws -> [String] {
        guard let value = body.values["rules"], !(value is NSNull) else {
            throw APIError.badRequest(field: "rules", "missing (a list of rules: host, *.domain, host:port, CIDR)")
        }
        guard let list = value as? [Any], !list.isEmpty, !JSONObject.isBool(value) else {
            throw APIError.badRequest(field: "rules", "must be a non-empty list of rules (strings)")
        }
        guard list.count <= 256 else { throw APIError.badRequest(field: "rules", "at most 256 rules in one request") }
        var rules: [String] = []
        for (i, item) in list.enumerated() {
            guard let text = item as? String, !JSONObject.isBool(item) else {
                throw APIError.badRequest(field: "rules[\(i)]", "must be a string")
            }
            do { _ = try AllowRule(text) } catch {
                let why = "\(error)"
                let prefix = "network.allow: "
                throw APIError.badRequest(field: "rules[\(i)]", why.hasPrefix(prefix) ? String(why.dropFirst(prefix.count)) : why)
            }
            rules.append(text)
        }
        return rules
    }

    /// Asks the warden; its refusal is a 400 (a rule it would not take); its silence a
    /// 409 when the sandbox has ended meanwhile (its deadline, a stop: the warden goes
    /// with it), else a 500.
    func ask(_ request: EgressControl.Request) throws -> EgressControl.Answer {
        let answer: EgressControl.Answer
        do { answer = try EgressControl.ask(request, socket: socket) } catch {
            if !Routes.isAlive(record.pid) { throw APIError.conflict("sandbox \(record.id) is not running (its warden is gone)") }
            throw APIError.runtime("the sandbox's warden did not answer: \(error)")
        }
        if let error = answer.error { throw APIError.badRequest(field: "rules", error) }
        return answer
    }

    static func json(_ rules: [EgressControl.Rule]) -> [[String: Any]] {
        rules.map { ["rule": $0.rule, "effect": $0.effect, "source": $0.source] }
    }

    static func json(_ s: EgressControl.Stats) -> [String: Any] {
        ["allowed": s.allowed, "denied": s.denied, "failed": s.failed, "bytesUp": s.bytesUp, "bytesDown": s.bytesDown,
         "connections": s.connections]
    }
}
