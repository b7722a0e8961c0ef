import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and the errno it returned.
///
/// The description reads like runc's (`mount /proc: operation not permitted`) so it
/// can reach the user verbatim as one line.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public let call: String
    public let path: String?
    public let errno: Int32

    public init(call: String, path: String? = nil, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let what = path.map { "\(call) \($0)" } ?? call
        return "\(what): \(Self.message(for: errno))"
    }

    /// strerror, lower-cased like Go's syscall.Errno strings that engines already parse.
    public static func message(for errno: Int32) -> String {
        guard let c = strerror(errno) else { return "errno \(errno)" }
        var text = String(cString: c)
        if let first = text.first { text = first.lowercased() + text.dropFirst() }
        return text
    }
}

/// The one funnel every system call goes through: retries EINTR, reads errno at once,
/// and throws an error that names the call and the path.
@inline(__always)
@discardableResult
public func syscall<T: BinaryInteger>(_ call: String, _ path: String? = nil, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(call: call, path: path, errno: code)
    }
}
