import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The per-root defaults: `<root>/safehouse.conf`, else `/etc/safehouse/safehouse.conf`.
///
/// A file of `key = value` lines; `#` starts a comment, blank lines are skipped.
/// Deliberately not JSON or TOML: `create` reads it on the hot path when neither the
/// flag nor the annotation chose a backend, and a few lines split by hand cost
/// nothing next to a decoder's first use (FACTS: about 2 ms). Keys:
///
/// - `backend = native|gvisor`: the backend of containers created under this root.
/// - `runsc = PATH`: the runsc binary (default: `runsc` from /usr/sbin, /usr/bin, ...).
/// - `runsc-debug-log = PATH`: runsc's `--debug-log` (a directory ending in `/` or a file).
/// - `runsc-overlay = none|root:memory|all:memory|...`: runsc's `--overlay2`.
/// - `policies = DIR`: the policy directory, the only place besides the shipped
///   profiles that the io.safehouse.policy annotation may name a policy from
///   (default /etc/safehouse/policies; Sources/Agent/PolicyLibrary.swift).
///
/// An unknown key or a bad value fails with `FILE:LINE: key: ...`, before anything
/// is created.
public struct BackendConfig: Sendable, Equatable {
    public var backend: Backend?
    public var runsc: String?
    public var runscDebugLog: String?
    public var runscOverlay: String?
    public var policyDirectory: String?

    public static let fileName = "safehouse.conf"
    public static let systemDirectory = "/etc/safehouse"

    public init(backend: Backend? = nil, runsc: String? = nil, runscDebugLog: String? = nil, runscOverlay: String? = nil) {
        self.backend = backend
        self.runsc = runsc
        self.runscDebugLog = runscDebugLog
        self.runscOverlay = runscOverlay
    }

    /// The first config file that exists (the root's, then the system's), parsed; nil
    /// when there is none. Costs one failed open per missing file.
    public static func load(root: String, systemDirectory: String = systemDirectory) throws -> BackendConfig? {
        for path in [root + "/" + fileName, systemDirectory + "/" + fileName] {
            let bytes: [UInt8]
            do { bytes = try Files.read(path, limit: 1 << 16) } catch let e as SystemError where e.errno == ENOENT || e.errno == ENOTDIR {
                continue
            } catch {
                throw RuntimeError("\(path): \(error)")
            }
            return try parse(String(decoding: bytes, as: UTF8.self), path: path)
        }
        return nil
    }

    public static func parse(_ text: String, path: String) throws -> BackendConfig {
        var config = BackendConfig()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = trim(line)
            if trimmed.isEmpty { continue }
            let at = "\(path):\(index + 1)"
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw RuntimeError("\(at): expected \"key = value\", got \"\(trimmed)\"")
            }
            let key = trim(trimmed[..<eq]), value = trim(trimmed[trimmed.index(after: eq)...])
            guard !value.isEmpty else { throw RuntimeError("\(at): \(key): empty value") }
            switch key {
            case "backend": config.backend = try Backend.parse(value, field: "\(at): backend")
            case "runsc":
                guard value.hasPrefix("/") else { throw RuntimeError("\(at): runsc: \"\(value)\" is not an absolute path") }
                config.runsc = value
            case "runsc-debug-log": config.runscDebugLog = value
            case "runsc-overlay":
                guard RunscFlags.isOverlaySetting(value) else {
                    throw RuntimeError("\(at): runsc-overlay: \"\(value)\" is not none or {root|all}:{memory|/dir}")
                }
                config.runscOverlay = value
            case "policies":
                guard value.hasPrefix("/"), !value.split(separator: "/").contains("..") else {
                    throw RuntimeError("\(at): policies: \"\(value)\" is not an absolute path without \"..\"")
                }
                var directory = Substring(value)
                while directory.count > 1, directory.hasSuffix("/") { directory = directory.dropLast() }
                config.policyDirectory = String(directory)
            default:
                throw RuntimeError("\(at): \(key): unknown key (known: backend, policies, runsc, runsc-debug-log, runsc-overlay)")
            }
        }
        return config
    }

    private static func trim(_ s: Substring) -> String {
        var s = s
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
