import Linux
import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension SandboxConfig {
    /// Reads each secret's value from where the policy says it is on the host (this
    /// process's environment, or a file), into `secretValues`, at create and before
    /// anything is made: a missing one fails create with the secret named. A value is
    /// one line of text (a file's one trailing newline is dropped): it goes into an
    /// HTTP header.
    public mutating func readSecretValues(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) throws {
        for secret in secrets {
            let value: String
            if let variable = secret.env {
                guard let v = environment(variable) else {
                    throw PolicyError("secrets: \(secret.name): the environment variable \(variable) is not set")
                }
                value = v
            } else if let path = secret.file {
                var bytes: [UInt8]
                do {
                    let fd = try FileDescriptor.open(path, O_RDONLY | O_CLOEXEC)
                    defer { fd.close() }
                    bytes = try fd.readAll(limit: 64 << 10, path: path)
                } catch {
                    throw PolicyError("secrets: \(secret.name): \(error)")
                }
                if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
                if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                value = String(decoding: bytes, as: UTF8.self)
            } else {
                continue
            }
            guard !value.isEmpty else { throw PolicyError("secrets: \(secret.name): the value is empty") }
            guard !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                throw PolicyError("secrets: \(secret.name): the value is not one line of text (it goes into an HTTP header)")
            }
            secretValues[secret.name] = value
        }
    }
}
