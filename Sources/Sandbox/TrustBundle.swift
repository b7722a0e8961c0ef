import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's trust store with its own CA in it (EgressCALauncher), for the TLS
/// the egress proxy terminates: each common bundle path the image has gets the
/// image's bundle plus the CA, and `bundlePath` (always made) holds the same, for the
/// variables that name a bundle (SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
/// NODE_EXTRA_CA_CERTS; SandboxSpec sets them). The files go into the ephemeral
/// root's own layer (EphemeralRoot.mount's `files`): the image is never written.
package enum TrustBundle {
    /// Debian/Ubuntu/Alpine, Fedora/RHEL, and the BSD-style path Alpine and others link.
    package static let commonPaths = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]

    /// The bundle the sandbox's variables name, present in every such sandbox.
    package static let bundlePath = "/etc/safehouse-ca-bundle.pem"

    /// The variables SandboxSpec points at `bundlePath`: OpenSSL (and what uses its
    /// default paths: curl, Python's ssl, Ruby, Go on Linux), Python's requests, Node.
    package static let variables = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"]

    /// The ephemeral layer's files for `image` (a root filesystem on the host).
    package static func files(image: String, certificatePEM: String) -> [String: String] {
        var files: [String: String] = [:]
        var first: String?
        for path in commonPaths {
            guard parentsAreDirectories(path, in: image), let original = read(path, in: image) else { continue }
            files[path] = joined(original, certificatePEM)
            first = first ?? original
        }
        files[bundlePath] = joined(first ?? "", certificatePEM)
        return files
    }

    static func joined(_ original: String, _ certificate: String) -> String {
        original.isEmpty || original.hasSuffix("\n") ? original + certificate : original + "\n" + certificate
    }

    /// Whether every directory above `path` in the image is a directory, not a link:
    /// the layer's file comes with real directories above it, which would hide a
    /// linked directory's other files (Fedora's /etc/ssl/certs -> ../pki/tls/certs);
    /// such a path is left alone (the bundle it leads to is one of the others).
    static func parentsAreDirectories(_ path: String, in image: String) -> Bool {
        var prefix = image
        for part in path.split(separator: "/").dropLast() {
            prefix += "/" + part
            var st = stat()
            guard lstat(prefix, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return false }
        }
        return true
    }

    /// The text of `path` inside `image`, resolved as if the image were "/" (openat2
    /// RESOLVE_IN_ROOT: a link, absolute or with "..", stays inside it, so an image
    /// cannot make this read a file of the host); nil if it is no regular file.
    static func read(_ path: String, in image: String) -> String? {
        guard let root = try? FileDescriptor.openPath(directory: image) else { return nil }
        defer { root.close() }
        guard let found = try? root.openPath(beneath: path) else { return nil }
        defer { found.close() }
        var st = stat()
        guard fstat(found.rawValue, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= 16 << 20,
              let file = try? FileDescriptor.open("/proc/self/fd/\(found.rawValue)", O_RDONLY | O_CLOEXEC) else { return nil }
        defer { file.close() }
        return (try? file.readAll(limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
    }
}
