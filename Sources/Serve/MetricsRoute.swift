import Foundation
import NIOHTTP1

/// `GET /metrics`: the Prometheus text exposition of ServiceMetrics. Outside `/v1`, where
/// scrapers look for it; behind the same bearer token as the API on TCP.
extension Routes {
    /// The exposition format's content type (text format 0.0.4).
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    func metrics(_ r: APIRequest) throws -> Reply {
        guard r.method == .GET else {
            throw APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "\(r.method) is not allowed on /metrics",
                           allow: ["GET"])
        }
        let deadlines = Dictionary(store.list().map { ($0.id, $0.expiresAt) }, uniquingKeysWith: { a, _ in a })
        return .text(.ok, contentType: Self.metricsContentType, store.metrics.scrape(deadlines: deadlines))
    }
}
