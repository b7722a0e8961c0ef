import Foundation

/// The routes of a live sandbox beyond create and files: pause and resume, background
/// commands (list, look up, kill, stdin, follow), and the event streams.
extension Routes {
    func session(_ r: APIRequest, shape: String, id: String, cid: String) throws -> Reply {
        switch shape {
        case "sandboxes/{id}/pause":
            try r.onlyQuery([])
            _ = try r.object()
            let record = try store.pause(id)
            return .json(.ok, record.json(state: "paused"))
        case "sandboxes/{id}/resume":
            try r.onlyQuery([])
            let timeout = try r.object().integer("timeout", in: 1...SandboxStore.maxTimeout)
            let record = try store.resume(id, timeout: timeout)
            return .json(.ok, record.json(state: store.quickState(record)))
        case "sandboxes/{id}/commands":
            try r.onlyQuery([])
            _ = try store.get(id)
            return .json(.ok, ["commands": store.commands.running(id).map { $0.json() }])
        case "sandboxes/{id}/commands/{cid}":
            try r.onlyQuery([])
            _ = try store.get(id)
            return .json(.ok, try store.commands.get(id, cid).json())
        case "sandboxes/{id}/commands/{cid}/kill":
            try r.onlyQuery([])
            _ = try r.object()
            let record = try store.get(id)
            let command = try store.commands.get(id, cid)
            try store.requireRunning(record)
            guard command.kill() else { throw APIError.conflict("command \(cid) has exited") }
            return .noContent
        case "sandboxes/{id}/commands/{cid}/stdin":
            try r.onlyQuery([])
            let record = try store.get(id)
            let command = try store.commands.get(id, cid)
            let body = try r.object()
            let data = try body.string("data")
            let close = try body.boolean("close") ?? false
            guard data != nil || close else { throw APIError.badRequest(field: "data", "missing (the text to write, or close: true)") }
            try store.requireRunning(record)
            guard command.writeInput(Data((data ?? "").utf8), close: close) else {
                throw APIError.conflict("the stdin of command \(cid) is closed")
            }
            return .noContent
        case "sandboxes/{id}/commands/{cid}/events":
            try r.onlyQuery(["after"])
            _ = try store.get(id)
            return .followCommand(try store.commands.get(id, cid), after: try r.after() ?? 0)
        case "sandboxes/{id}/events":
            try r.onlyQuery(["after"])
            _ = try store.get(id)
            return .events(sandboxId: id, after: try r.after())
        case "events":
            try r.onlyQuery(["after"])
            return .events(sandboxId: nil, after: try r.after())
        default:
            throw APIError.notFound("no route \(r.method) /\(r.segments.joined(separator: "/"))")
        }
    }
}

extension APIRequest {
    /// A 400 for any query parameter not in `allowed`.
    func onlyQuery(_ allowed: Set<String>) throws {
        if let other = query.first(where: { !allowed.contains($0.name) }) {
            throw APIError.badRequest(field: other.name, "unknown query parameter")
        }
    }

    /// Where a stream resumes: `?after=N`, else the `Last-Event-ID` header an
    /// EventSource sends when it reconnects; nil when neither is given.
    func after() throws -> UInt64? {
        if let text = queryValue("after") {
            guard let n = UInt64(text) else { throw APIError.badRequest(field: "after", "must be a whole number (an event's id)") }
            return n
        }
        if let text = headers.first(name: "last-event-id") {
            guard let n = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.badRequest(field: "Last-Event-ID", "must be a whole number (an event's id)")
            }
            return n
        }
        return nil
    }
}
