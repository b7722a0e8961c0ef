import NIOHTTP1

/// An error the API returns: an HTTP status, a stable code and one human line
/// (`{"error": {"code": "not_found", "message": "..."}}`). In-process users of the
/// library (SandboxHost) see the same code and line.
public struct APIError: Error, CustomStringConvertible {
    let status: HTTPResponseStatus
    public let code: String
    public let message: String
    /// The methods a 405's resource has (its Allow header).
    var allow: [String] = []

    init(status: HTTPResponseStatus, code: String, message: String, allow: [String] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow
    }

    public var description: String { message }

    /// A malformed request: the message starts with the field it is about.
    static func badRequest(field: String, _ problem: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_argument", message: "\(field): \(problem)")
    }
    static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: message)
    }
    static func sandboxNotFound(_ id: String) -> APIError {
        notFound("no sandbox \"\(id)\"")
    }
    static let unauthorized = APIError(status: .unauthorized, code: "unauthorized",
                                       message: "missing or wrong bearer token (Authorization: Bearer TOKEN)")
    static func conflict(_ message: String) -> APIError {
        APIError(status: .conflict, code: "conflict", message: message)
    }
    static func runtime(_ message: String) -> APIError {
        APIError(status: .internalServerError, code: "runtime_error", message: message)
    }
    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, code: "internal", message: message)
    }
    static func tooLarge(_ message: String) -> APIError {
        APIError(status: .payloadTooLarge, code: "too_large", message: message)
    }

    var json: [String: Any] { ["error": ["code": code, "message": message]] }
}
