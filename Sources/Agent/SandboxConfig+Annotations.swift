import Egress
import OCI
import Runtime

/// The annotations a generated spec carries, and that an engine can set on its own
/// (`io.safehouse.policy=default`) to get the sandbox treatment.
public enum SandboxAnnotation {
    /// A profile name, or a policy in the policy directory (PolicyLibrary).
    public static let policy = "io.safehouse.policy"
    /// The effective policy the spec was generated from, in a line (Policy.effectiveLine):
    /// for people reading the spec; nothing reads it back.
    public static let effectivePolicy = "io.safehouse.policy.effective"
    /// The effective limits the spec was generated with (a policy file may change).
    public static let disk = "io.safehouse.limits.disk"
    public static let timeout = "io.safehouse.limits.timeout"
    /// The egress allowlist, comma separated (the egress proxy's input).
    public static let networkAllow = "io.safehouse.network.allow"
    /// The egress proxy's limits (network.maxConnections, maxBytes, idleTimeout).
    public static let networkMaxConnections = "io.safehouse.network.maxConnections"
    public static let networkMaxBytes = "io.safehouse.network.maxBytes"
    public static let networkIdleTimeout = "io.safehouse.network.idleTimeout"
    /// Who is asked about a destination no rule covers, and its deadline.
    public static let networkDecider = "io.safehouse.network.decider"
    public static let networkDeciderTimeout = "io.safehouse.network.deciderTimeout"
    /// A CA bundle on the host trusted for the servers of terminated TLS (network.upstreamCA).
    public static let networkUpstreamCA = "io.safehouse.network.upstreamCA"
    /// The policy's secrets without their values: `{"secrets":[{"name":...,
    /// "placeholder":...,"env"|"file":...,"hosts":[...],"header":...}]}`.
    public static let secrets = "io.safehouse.secrets"
    /// How the sandbox reaches the allowlist: explicit, transparent or both.
    public static let networkMode = "io.safehouse.network.mode"
    /// The policy's audit log path, and its HMAC key file.
    public static let audit = "io.safehouse.audit"
    public static let auditKey = "io.safehouse.audit.key"
    /// `best-effort` when the policy lets the sandbox run without its audit log.
    public static let auditMode = "io.safehouse.audit.mode"
    /// Set by `agent spec --hooks`: the spec's own OCI hooks write create, start and
    /// delete, so safehouse, running it, does not write them twice.
    public static let auditHooks = "io.safehouse.audit.hooks"
}

/// The one codec between a SandboxConfig and a spec's annotations: `annotations`
/// (`agent run`, `agent spec`) and `init?(annotations:library:)` (create).
///
/// Two forms are read. A generated spec carries the whole config (its disk limit
/// says so). An engine may set only io.safehouse.policy: the config is then the
/// policy's own, which the library finds (a shipped profile, or a file of the policy
/// directory).
extension SandboxConfig {
    /// The config `policy` makes; `policyName` is how it was named.
    public init(_ policy: Policy, policyName: String) {
        self.init(policyName: policyName, diskBytes: policy.limits.disk)
        effectivePolicy = policy.effectiveLine
        timeoutSeconds = policy.limits.timeout
        networkAllow = policy.network.allow
        egressMaxConnections = policy.network.maxConnections
        egressMaxBytes = policy.network.maxBytes
        egressIdleTimeout = policy.network.idleTimeout
        egressDecider = policy.network.decider
        egressDeciderTimeout = policy.network.deciderTimeout
        egressUpstreamCA = policy.network.upstreamCA
        egressMode = policy.network.mode
        auditLog = policy.audit
        auditKey = policy.auditKey
        auditBestEffort = policy.auditBestEffort
    }

    /// The annotations of a generated spec.
    public var annotations: [String: String] {
        var a = [SandboxAnnotation.policy: policyName, SandboxAnnotation.disk: String(diskBytes)]
        if let effectivePolicy { a[SandboxAnnotation.effectivePolicy] = effectivePolicy }
        if let t = timeoutSeconds { a[SandboxAnnotation.timeout] = String(t) }
        if !networkAllow.isEmpty {
            a[SandboxAnnotation.networkAllow] = networkAllow.joined(separator: ",")
            // Without an allowlist the mode is moot: not said.
            a[SandboxAnnotation.networkMode] = egressMode.rawValue
        }
        if let n = egressMaxConnections { a[SandboxAnnotation.networkMaxConnections] = String(n) }
        if let n = egressMaxBytes { a[SandboxAnnotation.networkMaxBytes] = String(n) }
        if let t = egressIdleTimeout { a[SandboxAnnotation.networkIdleTimeout] = String(t) }
        if let d = egressDecider { a[SandboxAnnotation.networkDecider] = d }
        if let t = egressDeciderTimeout { a[SandboxAnnotation.networkDeciderTimeout] = String(t) }
        if let u = egressUpstreamCA { a[SandboxAnnotation.networkUpstreamCA] = u }
        if !secrets.isEmpty { a[SandboxAnnotation.secrets] = Self.secretsAnnotation(secrets) }
        if let auditLog { a[SandboxAnnotation.audit] = auditLog }
        if let auditKey { a[SandboxAnnotation.auditKey] = auditKey }
        if auditBestEffort { a[SandboxAnnotation.auditMode] = "best-effort" }
        if auditByHooks { a[SandboxAnnotation.auditHooks] = "true" }
        return a
    }

    /// The config of a spec whose annotations name a policy; nil: not a sandbox. Each
    /// bad annotation is named (`annotations.NAME: ...`). `library` is asked only when
    /// an engine set io.safehouse.policy alone and it is not a shipped profile.
    public init?(annotations: [String: String]?,
                 library: @autoclosure () throws -> PolicyLibrary = PolicyLibrary(directories: [PolicyLibrary.defaultDirectory])) throws {
        guard let annotations, let name = annotations[SandboxAnnotation.policy] else { return nil }
        func problem(_ key: String, _ text: String) -> PolicyError { PolicyError("annotations.\(key): \(text)") }
        func seconds(_ key: String) throws -> Double? {
            guard let t = annotations[key] else { return nil }
            guard let v = Double(t), v > 0, v.isFinite else { throw problem(key, "\"\(t)\" is not a positive number of seconds") }
            guard v <= Quantity.maximumTimeout else { throw problem(key, "\"\(t)\" is \(Quantity.timeoutTooLong)") }
            return v
        }
        guard let diskText = annotations[SandboxAnnotation.disk] else {
            // A shipped profile needs no policy directory: safehouse.conf is not read.
            let policy = try EngineSpecPolicy.resolve(name, library: library)
            // Placeholders go into the environment when the spec is generated; an
            // engine wrote this one: refused rather than run without the secrets.
            guard policy.secrets.isEmpty else {
                throw problem(SandboxAnnotation.policy, "policy \(name) has secrets, which only a spec agent spec generated carries (placeholders in its environment)")
            }
            self.init(policy, policyName: name)
            effectivePolicy = nil
            Self.readAudit(annotations, into: &self, policy: policy)
            return
        }
        guard let disk = UInt64(diskText), disk >= 1 << 20 else {
            throw problem(SandboxAnnotation.disk, "\"\(diskText)\" is not a number of bytes (at least 1Mi)")
        }
        self.init(policyName: name, diskBytes: disk)
        effectivePolicy = annotations[SandboxAnnotation.effectivePolicy]
        timeoutSeconds = try seconds(SandboxAnnotation.timeout)
        networkAllow = annotations[SandboxAnnotation.networkAllow].map {
            $0.split(separator: ",").map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }.filter { !$0.isEmpty }
        } ?? []
        // Checked here with the proxy's own parser, so a bad entry fails create with
        // the annotation named instead of the warden failing later.
        for entry in networkAllow {
            do { _ = try AllowRule(entry) } catch {
                throw problem(SandboxAnnotation.networkAllow, "\("\(error)".replacingPrefix("network.allow: ", with: ""))")
            }
        }
        if let t = annotations[SandboxAnnotation.networkMaxConnections] {
            guard let n = Int(t), n > 0 else { throw problem(SandboxAnnotation.networkMaxConnections, "\"\(t)\" is not a positive number") }
            egressMaxConnections = n
        }
        if let t = annotations[SandboxAnnotation.networkMaxBytes] {
            guard let n = UInt64(t) else { throw problem(SandboxAnnotation.networkMaxBytes, "\"\(t)\" is not a number of bytes") }
            egressMaxBytes = n
        }
        egressIdleTimeout = try seconds(SandboxAnnotation.networkIdleTimeout)
        if let d = annotations[SandboxAnnotation.networkDecider] {
            do { _ = try DeciderTarget(d) } catch { throw problem(SandboxAnnotation.networkDecider, "\(error)") }
            egressDecider = d
        }
        egressDeciderTimeout = try seconds(SandboxAnnotation.networkDeciderTimeout)
        if let u = annotations[SandboxAnnotation.networkUpstreamCA] {
            guard u.hasPrefix("/") else { throw problem(SandboxAnnotation.networkUpstreamCA, "\"\(u)\" is not an absolute path") }
            egressUpstreamCA = u
        }
        if let t = annotations[SandboxAnnotation.networkMode] {
            guard let m = EgressMode(rawValue: t) else {
                throw problem(SandboxAnnotation.networkMode, "\"\(t)\" is not one of explicit, transparent, both")
            }
            egressMode = m
        }
        if let text = annotations[SandboxAnnotation.secrets] {
            guard let list = Self.secrets(annotation: text) else {
                throw problem(SandboxAnnotation.secrets, "not {\"secrets\":[{name, placeholder, env or file, hosts, header}]}")
            }
            secrets = list
        }
        Self.readAudit(annotations, into: &self, policy: nil)
    }

    static func secretsAnnotation(_ secrets: [SecretBinding]) -> String {
        var w = FlatJSONWriter()
        w.add("secrets", objects: secrets.map { s in
            var o = FlatJSONWriter()
            o.add("name", s.name)
            o.add("placeholder", s.placeholder)
            if let env = s.env { o.add("env", env) }
            if let file = s.file { o.add("file", file) }
            o.add("hosts", s.hosts)
            if let header = s.header { o.add("header", header) }
            return o
        })
        return w.string
    }

    static func secrets(annotation text: String) -> [SecretBinding]? {
        guard let list = FlatJSONObject(parsing: Array(text.utf8))?.objects("secrets") else { return nil }
        var secrets: [SecretBinding] = []
        for o in list {
            guard let name = o.string("name"), let placeholder = o.string("placeholder"),
                  placeholder.hasPrefix(EgressSecret.placeholderPrefix), let hosts = o.stringArray("hosts"), !hosts.isEmpty,
                  (o.string("env") == nil) != (o.string("file") == nil) else { return nil }
            secrets.append(SecretBinding(name: name, placeholder: placeholder, env: o.string("env"), file: o.string("file"),
                                         hosts: hosts, header: o.string("header")))
        }
        return secrets
    }

    /// The audit log and key alone, as every lifecycle record of a sandbox needs them
    /// (AuditSink): never throws. `policy` is looked up only for an engine's
    /// annotations (no disk limit, no log), whose log and key are the policy's.
    public static func auditLog(of annotations: [String: String], policy: () -> Policy?) -> (log: String?, key: String?) {
        var config = SandboxConfig(policyName: annotations[SandboxAnnotation.policy] ?? "", diskBytes: 0)
        readAuditLog(annotations, into: &config,
                     policy: annotations[SandboxAnnotation.disk] == nil && annotations[SandboxAnnotation.audit] == nil ? policy() : nil)
        return (config.auditLog, config.auditKey)
    }

    /// `policy`: the engine form's policy, whose log and key stand in for missing
    /// annotations.
    static func readAuditLog(_ annotations: [String: String], into config: inout SandboxConfig, policy: Policy?) {
        config.auditLog = annotations[SandboxAnnotation.audit]
        config.auditKey = annotations[SandboxAnnotation.auditKey]
        if config.auditLog == nil, annotations[SandboxAnnotation.disk] == nil, let policy {
            config.auditLog = policy.audit
            config.auditKey = config.auditKey ?? policy.auditKey
        }
    }

    /// Best-effort comes from the annotation, else, for an engine's spec naming a
    /// shipped profile and no log, from that profile: a policy directory's file does
    /// not make an engine-run sandbox best-effort.
    static func readAudit(_ annotations: [String: String], into config: inout SandboxConfig, policy: Policy?) {
        readAuditLog(annotations, into: &config, policy: policy)
        config.auditByHooks = annotations[SandboxAnnotation.auditHooks] != nil
        if let mode = annotations[SandboxAnnotation.auditMode] {
            config.auditBestEffort = mode == "best-effort"
        } else if annotations[SandboxAnnotation.audit] == nil, annotations[SandboxAnnotation.disk] == nil,
                  let profile = try? Profiles.resolve(config.policyName) {
            config.auditBestEffort = profile.auditBestEffort
        } else {
            config.auditBestEffort = false
        }
    }
}
