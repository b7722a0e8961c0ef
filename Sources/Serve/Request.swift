import Foundation
import NIOHTTP1

/// A request as the routes see it: method, path segments, query, JSON body.
struct APIRequest {
    var method: HTTPMethod
    var segments: [String]
    var query: [(name: String, value: String)]
    var body: Data
    var headers: HTTPHeaders
    /// Who sent it, as the audit records name a relayed change: `api unix uid 0 pid 42`
    /// (the kernel's word on the socket's peer) or `api tcp 127.0.0.1:5000 (bearer token)`.
    var client = "api"

    init(head: HTTPRequestHead, body: Data) throws {
        method = head.method
        headers = head.headers
        guard let components = URLComponents(string: head.uri) else {
            throw APIError.badRequest(field: "url", "\"\(head.uri)\" is not a valid request target")
        }
        segments = components.path.split(separator: "/").map(String.init)
        query = (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }
        self.body = body
    }

    func queryValue(_ name: String) -> String? { query.last { $0.name == name }?.value }

    /// The body as a JSON object; an empty body is an empty object.
    func object() throws -> JSONObject {
        if body.isEmpty { return JSONObject([:]) }
        guard let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            throw APIError.badRequest(field: "body", "not valid JSON")
        }
        guard let object = value as? [String: Any] else { throw APIError.badRequest(field: "body", "must be a JSON object") }
        return JSONObject(object)
    }
}

/// Typed reads of a JSON object's fields, each failing with the field's name.
struct JSONObject {
    let values: [String: Any]
    init(_ values: [String: Any]) { self.values = values }

    /// The field's value; nil when it is left out. A JSON null is refused: no field of
    /// the API (api/openapi.yaml) is nullable, and leaving it out is how a client asks
    /// for the default.
    private func present(_ key: String) throws -> Any? {
        guard let v = values[key] else { return nil }
        if v is NSNull { throw APIError.badRequest(field: key, "must not be null (leave it out for the default)") }
        return v
    }

    func string(_ key: String) throws -> String? {
        guard let v = try present(key) else { return nil }
        guard let s = v as? String else { throw APIError.badRequest(field: key, "must be a string") }
        return s
    }

    func boolean(_ key: String) throws -> Bool? {
        guard let v = try present(key) else { return nil }
        guard Self.isBool(v), let b = v as? Bool else { throw APIError.badRequest(field: key, "must be true or false") }
        return b
    }

    /// A whole number in `range`.
    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = try present(key) else { return nil }
        guard !Self.isBool(v), let n = v as? NSNumber, case let d = n.doubleValue,
              d.rounded() == d, d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw APIError.badRequest(field: key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(d)
    }

    /// A number of seconds in (0, max].
    func seconds(_ key: String, max: Double) throws -> Double? {
        guard let v = try present(key) else { return nil }
        guard !Self.isBool(v), let n = v as? NSNumber, n.doubleValue > 0, n.doubleValue <= max else {
            throw APIError.badRequest(field: key, "must be a number of seconds, more than 0 and at most \(Int(max))")
        }
        return n.doubleValue
    }

    /// An object of strings to strings (env, metadata).
    func stringMap(_ key: String, keyRule: (String) -> String? = { _ in nil }) throws -> [String: String] {
        guard let v = try present(key) else { return [:] }
        guard let map = v as? [String: Any] else { throw APIError.badRequest(field: key, "must be an object of strings") }
        var out: [String: String] = [:]
        for (k, value) in map {
            guard let s = value as? String else { throw APIError.badRequest(field: "\(key).\(k)", "must be a string") }
            if let problem = keyRule(k) { throw APIError.badRequest(field: "\(key).\(k)", problem) }
            out[k] = s
        }
        return out
    }

    /// JSON true and false (an NSNumber whose type is char), which are not numbers here.
    static func isBool(_ v: Any) -> Bool {
        if v is Bool, type(of: v) == Bool.self { return true }
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    /// Environment names: not empty, no "=", no NUL.
    static func envKeyProblem(_ k: String) -> String? {
        if k.isEmpty || k.contains("=") || k.utf8.contains(0) { return "not a valid variable name" }
        return nil
    }
}
