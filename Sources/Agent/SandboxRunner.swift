import Egress
import FoundationEssentials
import Linux
import OCI
import Runtime
import SandboxInterface
import Cgroups
import Images
#if canImport(Glibc)
import Glibc
#endif

/// `safehouse agent run`: policy → spec → bundle → create (ephemeral root, warden) →
/// start → wait → report → delete. Nothing stays behind but what /output received.
public struct SandboxRunner {
    public struct Options: Sendable, Equatable {
        public var policy = "default"
        public var rootfs: String
        /// `--image REF`: the sandbox's root is the image's layers (docs/images.md);
        /// `rootfs` is then empty.
        public var image: String?
        /// `--keep`: the change set is kept for `agent commit` (KeptChanges).
        public var keep = false
        public var input: String?
        public var output: String?
        public var id: String?
        public var backend: String?
        public var timeout: String?
        /// `--env K=V` (repeatable): added to the policy's env, replacing a key it has.
        public var env: [String] = []
        /// `--workdir PATH`: replaces the policy's workdir.
        public var workdir: String?
        /// `--allow HOST` (repeatable): added to the policy's network.allow.
        public var allow: [String] = []
        public var summary: SummaryFormat = .text
        /// `--summary-file PATH`: the summary goes there instead of stderr.
        public var summaryFile: String?
        public var args: [String]

        public init(rootfs: String, args: [String]) {
            self.rootfs = rootfs
            self.args = args
        }
    }

    public enum SummaryFormat: String, Sendable { case text, json, none }

    /// What one run did, for the summary.
    public struct Outcome {
        public var id: String
        public var policy: String
        public var exitCode: Int32
        public var seconds: Double
        public var limitsHit: [String]
        public var changes: ChangeSet
        /// The egress proxy's decisions, one JSON object each (the warden's
        /// egress.jsonl, read before the state directory goes).
        public var egress: [String] = []
        /// The policy the sandbox ran with (its base, the file and the flags).
        public var effective: Policy
        /// The sandbox whose change set was kept for `agent commit` (`--keep`).
        public var keptFor: String?
    }

    /// The exit code for a timeout, as timeout(1) uses it (and `run` of a sandbox).
    public static let timeoutExitCode = ContainerRuntime.timeoutExitCode

    let runtime: ContainerRuntime
    public init(runtime: ContainerRuntime) { self.runtime = runtime }

    /// The policy with the command line's overrides applied and checked, and its host
    /// id range chosen (HostIDRange): what the sandbox will run with.
    public static func effectivePolicy(_ o: Options, library: PolicyLibrary = PolicyLibrary(directories: [PolicyLibrary.defaultDirectory]),
                                       subordinateIDs: [HostIDRange.Entry]? = nil) throws -> Policy {
        var policy = try library.resolve(o.policy, from: .commandLine)
        if let input = o.input { policy.filesystem.input = absolute(input) }
        if let output = o.output { policy.filesystem.output = absolute(output) }
        if let t = o.timeout {
            guard let s = Quantity.seconds(t) else { throw PolicyError("--timeout: \"\(t)\" is not a duration (use 30s, 5m, 1h30m, 250ms)") }
            guard s <= Quantity.maximumTimeout else { throw PolicyError("--timeout: \"\(t)\" is \(Quantity.timeoutTooLong)") }
            policy.limits.timeout = s
        }
        if let b = o.backend {
            guard let backend = Policy.Backend(rawValue: b) else { throw PolicyError("--backend: \"\(b)\" is not one of native, gvisor") }
            policy.backend = backend
        }
        for pair in o.env {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw PolicyError("--env: \"\(pair)\" is not KEY=VALUE")
            }
            let key = String(pair[..<eq])
            guard !key.contains("\0"), !pair.contains("\0") else { throw PolicyError("--env: \"\(key)\" contains a NUL byte") }
            policy.env[key] = String(pair[pair.index(after: eq)...])
        }
        if let w = o.workdir {
            guard w.hasPrefix("/"), !w.split(separator: "/").contains(".."), !w.contains("\0") else {
                throw PolicyError("--workdir: \"\(w)\" must be an absolute path without \"..\"")
            }
            policy.workdir = w
        }
        for host in o.allow {
            // The proxy's own parser: what the command line adds, the proxy enforces.
            do { _ = try AllowRule(host) } catch {
                throw PolicyError("--allow: \("\(error)".replacingPrefix("network.allow: ", with: ""))")
            }
            if !policy.network.allow.contains(host) { policy.network.allow.append(host) }
        }
        if policy.user.userNamespace {
            policy.user.hostID = try HostIDRange.resolve(policy.user, entries: subordinateIDs ?? HostIDRange.hostEntries())
        }
        return policy
    }

    public static func request(_ o: Options) -> SandboxRequest {
        SandboxRequest(rootfs: absolute(o.rootfs), args: o.args, policyName: o.policy)
    }

    public func run(_ o: Options, library: PolicyLibrary) throws -> (Int32, Outcome) {
        // From here on the run makes things (an image mount, the bundle, the zones)
        // that only its own clean-up removes, so no signal may end it half way: a
        // write to a closed stderr fails instead of killing it, and the signals the
        // runtime forwards to the sandbox (SIGINT, SIGTERM, SIGHUP, ...) are held
        // until the sandbox runs, then forwarded to it, whose end is cleaned up as
        // always. A create that fails drops them with everything it made.
        Signals.failWritesToClosedPipes()
        Signals.block(ContainerRuntime.forwardedSignals)
        PhaseTrace.mark("agent run")
        var policy = try Self.effectivePolicy(o, library: library)
        PhaseTrace.mark("policy read")
        // Which backend: `--backend` (effectivePolicy put it in the policy), else the
        // policy's (every policy names one; the shipped profiles say native).
        runtime.backendFlag = policy.backend
        var request = Self.request(o)
        let id = o.id ?? "agent-" + Self.randomID()
        do { try ContainerID.validate(id) } catch { throw PolicyError("--id: \(error)") }
        if Files.exists(runtime.store.directory(of: id)) { throw PolicyError("--id: container \"\(id)\" already exists") }
        let bundle = ContainerRuntime.agentBundles + "/" + id
        // An image: fetched (or found in the store), its layers held against removal
        // for the run, mounted in the bundle as the sandbox's root (ImageRoot).
        var image: (record: ImageRecord, store: ImageStore, held: [FileDescriptor])?
        if let ref = o.image {
            guard o.rootfs.isEmpty else { throw PolicyError("--image and --rootfs: give one of them") }
            let store = try ImageStore.configured()
            let record = try ImageFetch(store: store).resolve(try ImageReference.parse(ref, cwd: Self.absolute(".")))
            image = (record, store, try store.hold(record.layers))
            request.args = ImageDefaults.command(record.config, args: o.args)
            request.rootfs = bundle + "/rootfs"
            request.baseEnv = record.config.env ?? []
            PhaseTrace.mark("image resolved")
        } else if o.keep {
            throw PolicyError("--keep: needs --image (a --rootfs tree is no image to commit onto)")
        }
        defer { withExtendedLifetime(image?.held) {} }
        // Generated (and so checked) before anything is made; with an image, again once
        // its root is mounted (the image's user names are looked up in it).
        var spec = try SandboxSpec.generate(policy, request)
        if image == nil, !Files.isDirectory(request.rootfs) { throw PolicyError("--rootfs: \(request.rootfs) is not a directory") }
        // Last of the checks (SandboxZones: no symlink followed): it makes a missing
        // output directory.
        let zones = try SandboxZones(policy)

        // The bundle lives only as long as the run.
        try Files.makeDirectories(ContainerRuntime.agentBundles)
        guard mkdir(bundle, 0o700) == 0 else { throw PolicyError("bundle \(bundle): \(SystemError.message(for: errno))") }
        // Never into a zone still there (the user's directories are mounted in them).
        defer { if !BundleZones.remain(inBundle: bundle) { try? Files.removeTree(bundle) } }
        // Unmounted before the bundle goes (a removal never crosses a mount point),
        // whatever fails after the mount.
        defer { if image != nil { ImageRoot.unmount(bundle + "/rootfs") } }
        if let image {
            try Files.makeDirectories(request.rootfs)
            try ImageRoot.mount(layers: try image.record.layers.map(image.store.layerPath), at: request.rootfs)
            PhaseTrace.mark("image mounted")
            try ImageDefaults.apply(image.record.config, to: &policy, &request, workdirFlag: o.workdir, rootfs: request.rootfs)
            spec = try SandboxSpec.generate(policy, request)
        }
        PhaseTrace.mark("spec generated")
        // /output: a bounded layer over the directory, copied back when the sandbox is
        // gone (OutputZone); /input: mounted from the descriptor that was checked.
        var createOptions = CreateOptions(bundle: bundle)
        try zones.openBundle(bundle, policy: policy)
        let output = try zones.mountOutput(policy: policy, bundle: bundle, spec: &spec, options: &createOptions)
        var outputKept: [String] = []
        defer { if let output { outputKept += OutputZone.finish(bundle: bundle, ownership: output.ownership, held: output.directory) } }
        defer { InputZone.remove(bundle: bundle) }
        try zones.mountInput(bundle: bundle, spec: &spec, options: &createOptions)
        // compactJSON, not JSONEncoder: a cold JSONEncoder cost more than this whole
        // command's own work (OCI/FastEncoding.swift).
        try Files.writeAtomically(bundle + "/config.json", spec.compactJSON(), mode: 0o600)
        PhaseTrace.mark("bundle written")

        // A warden that dies while the sandbox runs stops it (WardenWatch).
        let watch = WardenWatch(forwardingTo: runtime.observer, store: runtime.store, id: id)
        runtime.observer = watch
        let started = Self.now()
        var report: WardenReport?
        var changes = ChangeSet()
        var egress: [String] = []
        var stopped = false
        var diskFull = false
        var outputFull = false
        var outputUsed: UInt64 = 0
        var keptFor: String?
        // Whether this run saw its sandbox's end: one that another command removed
        // first (`agent checkpoint`, which saves it; `delete`) leaves it nothing to read.
        var sawEnd = false
        // The runtime made the mount points (/scratch, /input, ...): not the agent's doing.
        let mountPoints = Set((spec.mounts ?? []).map(\.destination))
        let status = try runtime.run(id: id, options: createOptions, detach: false) { record in
            sawEnd = true
            let dir = runtime.store.directory(of: id)
            if let warden = record.liveWardenPid { _ = Processes.waitForExit(warden, timeout: 5) }
            PhaseTrace.mark("warden gone")
            report = WardenReport.read(stateDirectory: dir)?.report
            egress = EgressDecisions.read(directory: dir)
            stopped = Files.exists(dir + "/" + ContainerRuntime.stopMarker)
            let ephemeral = EphemeralRoot.directory(root: runtime.store.root, id: id)
            diskFull = EphemeralRoot.isFull(ephemeral)
            changes = ChangeSet.compute(upper: ephemeral + "/upper", lower: record.rootfs)
            changes.entries.removeAll { $0.kind == .created && $0.size == 0 && mountPoints.contains($0.path) }
            PhaseTrace.mark("changes computed")
            if o.keep, let image {
                do {
                    try KeptChanges.keep(image.store, id: id, upper: ephemeral + "/upper", image: image.record, changes: changes.lines,
                                         hostBase: policy.user.userNamespace ? policy.user.hostID ?? 0 : 0,
                                         idCount: policy.user.userNamespace ? policy.user.idCount : 0,
                                         skipEmptyDirectories: mountPoints)
                    keptFor = id
                } catch {
                    Processes.writeToStandardError("safehouse: --keep: the change set was not kept: \(error)\n")
                }
            }
            if let output {
                outputFull = OutputZone.isFull(bundle: bundle)
                outputUsed = OutputZone.usage(bundle: bundle)?.used ?? 0
                outputKept = OutputZone.finish(bundle: bundle, ownership: output.ownership, held: output.directory)
                PhaseTrace.mark("output copied back")
            }
        }
        var limits: [String] = []
        var code = status
        if !sawEnd {
            limits.append("ended by another command (agent checkpoint saved it, or a delete): its change set went with it")
        }
        switch report?.reason {
        case .timeout?:
            limits.append("timeout (\(Quantity.describe(seconds: policy.limits.timeout ?? 0)))")
            code = Self.timeoutExitCode
        case .stopped?:
            limits.append("stopped (emergency stop)")
        default:
            if watch.wardenDied { limits.append("stopped (the warden died)") } else if stopped { limits.append("stopped (emergency stop)") }
        }
        if let oom = report?.oomKills, oom > 0 {
            limits.append("memory (\(oom) OOM kill\(oom == 1 ? "" : "s") at \(Quantity.describe(bytes: policy.limits.memory ?? 0)))")
        }
        // The kernel counts no ENOSPC for a tmpfs: a root that is full when the command
        // ends is the evidence (a writer that hit the limit and then deleted is missed).
        if diskFull { limits.append("disk (the root's \(Quantity.describe(bytes: policy.limits.disk)) filled up)") }
        if outputFull {
            limits.append("output (filesystem.outputSize: /output's \(Quantity.describe(bytes: SandboxZones.outputSize(policy))) filled up)")
        } else if let oom = report?.oomKills, oom > 0, let memory = policy.limits.memory, outputUsed >= memory / 2 {
            // /output's files are tmpfs pages, counted against the memory limit: one that
            // is not above outputSize is hit first, and the writer is killed instead of
            // getting ENOSPC. Said, so that the cause is not mistaken.
            limits.append("output (filesystem.outputSize: /output held \(Quantity.describe(bytes: (outputUsed >> 20) << 20)) of \(Quantity.describe(bytes: SandboxZones.outputSize(policy))) when the memory limit killed the writer: /output's files count against memory)")
        }
        for line in outputKept { Processes.writeToStandardError("safehouse: \(line)\n") }
        if report?.egressQuotaSpent == true {
            limits.append("egress (the byte quota of \(Quantity.describe(bytes: policy.network.maxBytes ?? 0)) each way was spent)")
        }
        if let hits = report?.pidsLimitHits, hits > 0 {
            limits.append("pids (\(hits) fork\(hits == 1 ? "" : "s") refused at \(policy.limits.pids ?? 0))")
        }
        // On the record: the limits hit and the change set (the runtime wrote create,
        // start, exit and delete through the same observer; the warden each egress
        // decision as it was made).
        for limit in limits { runtime.observer?.record(spec.annotations, id, "limit") { ["limit": .string(limit)] } }
        runtime.observer?.record(spec.annotations, id, "changes") { changes.auditDetails }
        return (code, Outcome(id: id, policy: o.policy, exitCode: code, seconds: Self.now() - started,
                              limitsHit: limits, changes: changes, egress: egress, effective: policy, keptFor: keptFor))
    }

    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "/" + path }
        return String(cString: buf) + "/" + path
    }

    /// The random part of a default sandbox id (agent-<this>).
    public static func randomID() -> String {
        let b = (try? FileDescriptor.open("/dev/urandom", O_RDONLY).read(upTo: 8)) ?? []
        return b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
