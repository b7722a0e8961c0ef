import Foundation
import SandboxInterface

/// A live sandbox's network: its allowlist read and changed (as `agent rules|allow|deny`
/// do), its egress figures, and the answers of a client that is the sandbox's decider.
extension Routes {
    func network(_ r: APIRequest, shape: String, id: String, rid: String) throws -> Reply {
        try r.onlyQuery([])
        let record = try store.get(id)
        switch shape {
        case "sandboxes/{id}/network/rules":
            let answer = try SandboxEgress(record, store: store).ask(EgressControl.Request(.rules))
            return .json(.ok, ["rules": SandboxEgress.json(answer.rules ?? [])])
        case "sandboxes/{id}/network/stats":
            let answer = try SandboxEgress(record, store: store).ask(EgressControl.Request(.stats))
            return .json(.ok, SandboxEgress.json(answer.stats ?? EgressControl.Stats()))
        case "sandboxes/{id}/network/allow", "sandboxes/{id}/network/deny":
            let rules = try SandboxEgress.rules(r.object())
            let operation: EgressControl.Operation = shape.hasSuffix("allow") ? .allow : .deny
            let egress = try SandboxEgress(record, store: store)
            let answer = try egress.ask(EgressControl.Request(operation, rules: rules, onBehalfOf: r.client))
            return .json(.ok, ["changes": answer.changes, "rules": SandboxEgress.json(answer.rules ?? [])])
        case "sandboxes/{id}/network/decisions":
            return .json(.ok, ["requests": store.deciders.pending(id).map { $0.json }])
        default: // "sandboxes/{id}/network/decisions/{rid}"
            let body = try r.object()
            guard let allow = try body.boolean("allow") else {
                throw APIError.badRequest(field: "allow", "missing (true lets the connection through, false refuses it)")
            }
            let reason = try body.string("reason") ?? ""
            guard reason.count <= 1000 else { throw APIError.badRequest(field: "reason", "at most 1000 characters") }
            guard !reason.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw APIError.badRequest(field: "reason", "one line, without control characters")
            }
            let answered = try store.deciders.answer(id, rid, allow: allow, reason: reason, by: r.client)
            return .json(.ok, answered.json)
        }
    }
}
