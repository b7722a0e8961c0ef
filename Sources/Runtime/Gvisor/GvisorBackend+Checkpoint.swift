import ContainerCore
import Linux
import OCI
import Sandbox

extension GvisorBackend {
    /// `checkpoint`: runsc's, which saves the whole sandbox (the sentry's memory, its
    /// file table, its netstack) into one `checkpoint.img`: no CRIU, so none of CRIU's
    /// options apply and each is refused by name. Without `--leave-running` the
    /// container is then removed, as runc removes a checkpointed one.
    ///
    /// `--leave-running` is not runsc's: this runsc's own (which restarts the sandbox
    /// from the image inside `runsc checkpoint`) never returns and leaves the new
    /// sandbox without its gofer ("input/output error" on every file). So the sandbox
    /// is checkpointed, and restored at once from the image under the same id, as
    /// runsc would; the container's output from then on goes to
    /// `<root>/<id>/runsc-checkpoint.log`.
    func checkpoint(_ record: ContainerRecord, options: CheckpointOptions) throws {
        let current = state(of: record).status
        try current.canCheckpoint()
        let sandbox = record.ephemeralRoot || record.wardenPid > 0
        if sandbox { try Self.checkSandboxCheckpoint(record, options: options) }
        if let flag = options.criuOnlyFlags.first {
            throw RuntimeError("\(flag): not supported by the gvisor backend (runsc checkpoint saves the sandbox itself, without CRIU)")
        }
        let upper = EphemeralRoot.directory(root: store.root, id: record.id) + "/upper"
        if sandbox { try UpperLayerCopy.checkRoom(for: upper, in: Bundle.absolute(options.imagePath)) }
        // runsc checkpoints a running sentry; a paused one is thawed first and, when it
        // keeps running, frozen again, so the caller sees the status it left.
        if current == .paused { try runscVerb(record, "resume") }
        let image = Bundle.absolute(options.imagePath)
        try stage("--image-path \(options.imagePath)") { try Files.makeDirectories(image, mode: 0o755) }
        var args = ["checkpoint", "--image-path", image]
        if let work = options.workPath { args += ["--work-path", Bundle.absolute(work)] }
        args.append(record.id)
        let result = try runsc(record, args).capture()
        guard result.status == .exited(0) else {
            if sandbox, let cause = Self.unsavableConnection(result.stderr) {
                // The sentry panicked in its save and the sandbox ended: what is left
                // of it is removed, as after any end.
                runtime.recordEnd(record)
                try? destroy(record)
                throw RuntimeError("checkpoint \(record.id): \(cause); the sandbox ended with the failed checkpoint and is removed")
            }
            if current == .paused { try? runscVerb(record, "pause") }
            throw RunscError.message(verb: "checkpoint", id: record.id, runscText: result.stderr)
        }
        // A sandbox's files: its upper layer, copied while runsc's sandbox is stopped
        // (runsc flushed what the sentry cached into it), beside the memory image.
        if sandbox {
            do {
                try UpperLayerCopy.copy(from: upper, into: image + "/" + Self.upperLayerDirectory)
            } catch {
                // Rare (the room was checked): runsc's checkpoint has stopped the sandbox
                // and its warden has ended with it, and a sandbox runs only with its
                // warden, so it is not started again; it is removed, and so is the
                // image, which no restore could use.
                runtime.recordEnd(record)
                try? destroy(record)
                try? Files.removeTree(image)
                throw RuntimeError("checkpoint \(record.id): \(error); the sandbox, stopped by the checkpoint, is removed")
            }
        }
        // Podman takes a directory without CRIU's `inventory.img` for an incomplete
        // checkpoint and will not restore it: an empty one marks runsc's image complete.
        // (Native restore tells the two kinds apart by `checkpoint.img`, runsc's.)
        try stage("\(image)/inventory.img") { try Files.writeAtomically(image + "/inventory.img", [], mode: 0o644) }
        runtime.recordAudit(record.annotations, record.id, "checkpoint",
                            ["image": .string(image), "leaveRunning": .string(options.leaveRunning ? "true" : "false")])
        if options.leaveRunning {
            try restart(record, from: image)
            if current == .paused { try runscVerb(record, "pause") }
            return
        }
        runtime.recordEnd(record)
        try destroy(record)
    }

    /// Why runsc could not save a sandbox with egress, when that is the reason: this
    /// runsc (20221219) saves a TCP socket on gVisor's netstack only when it is not
    /// connected or its link can be restored or dropped, and the egress link (a host
    /// veth, runsc's fdbased link) is neither: a connection over it that is open, or
    /// closing, or in TIME_WAIT (60 s in gVisor after the sandbox closed it first)
    /// makes the sentry panic in its save ("endpoint cannot be saved in connected
    /// state"), which ends the sandbox. Loopback connections inside gVisor save.
    static func unsavableConnection(_ runscText: String) -> String? {
        guard runscText.contains("endpoint cannot be saved in connected state") else { return nil }
        return "runsc cannot save a TCP connection over the egress link (one was open, closing or in TIME_WAIT, which lasts 60 s after the sandbox closes a connection first)"
    }

    /// Where an agent sandbox's checkpoint keeps its upper layer, beside checkpoint.img.
    static let upperLayerDirectory = "upper"

    /// What an agent sandbox's checkpoint cannot do on gvisor, refused before anything
    /// is touched. `--leave-running`: the sandbox is saved to be restored as new ones
    /// (its warden and deadline go with it). An allowlist is restored (a new link and
    /// warden per copy, GvisorEgressLink.prepareForRestore), but not every egress
    /// policy (checkRestorableEgress).
    static func checkSandboxCheckpoint(_ record: ContainerRecord, options: CheckpointOptions) throws {
        if options.leaveRunning {
            throw RuntimeError("--leave-running: not for an agent sandbox (\(record.id) is saved to be restored as new sandboxes, and goes)")
        }
        if record.runscFlags.contains("--network=" + RunscFlags.Network.sandbox.rawValue) {
            try checkRestorableEgress(record.annotations ?? [:], id: record.id)
        }
    }

    /// The egress policies a restored copy could not keep, by the sandbox's
    /// annotations (SandboxConfig's). Secrets: the warden that terminates TLS for them
    /// has a CA made for this sandbox alone, which its root trusts; a new warden's new
    /// CA would not be trusted, and the old one's key went with the old warden. A
    /// decider: its answers and pending questions are the old warden's, and a copy
    /// asking the same decider as another is not built.
    static func checkRestorableEgress(_ annotations: [String: String], id: String) throws {
        for (key, what) in [("io.safehouse.secrets", "secrets"), ("io.safehouse.network.decider", "an egress decider")]
        where !(annotations[key] ?? "").isEmpty {
            throw RuntimeError("\(id): an agent sandbox with \(what) cannot be checkpointed or restored on gvisor (a restored copy gets a new warden, which cannot take over the old one's \(key == "io.safehouse.secrets" ? "TLS authority" : "decider's answers"))")
        }
    }

    /// `--leave-running`: the checkpointed (stopped) sandbox is removed from runsc and
    /// restored from `image` under the same id and bundle; the record follows the new
    /// sandbox process (pid, start time, cgroups), as every later verb reads them. The
    /// restored sandbox keeps runsc's stdio: a file, never a pipe to this process,
    /// which would then wait for ever.
    private func restart(_ record: ContainerRecord, from image: String) throws {
        _ = try runsc(record, ["delete", "--force", record.id]).capture()
        let dir = store.directory(of: record.id)
        let bundle = Files.exists(dir + "/bundle/config.json") ? dir + "/bundle" : record.bundle
        let output = dir + "/runsc-checkpoint.log"
        let restored = try runsc(record, ["restore", "--image-path", image, "--detach", "--bundle", bundle, record.id])
            .run(stdin: "/dev/null", output: output)
        guard restored == .exited(0) else {
            throw RunscError.message(verb: "restore", id: record.id,
                                     runscText: (try? Files.readString(output)) ?? "exit status \(restored.shellCode)")
        }
        let (status, pid) = state(of: record)
        guard status != .stopped, pid > 0, let start = Processes.startTime(of: pid) else {
            throw RuntimeError("checkpoint \(record.id): runsc left no running sandbox after --leave-running")
        }
        var record = record
        record.pid = pid
        record.pidStartTime = start
        record.cgroupPaths = GvisorCgroups.paths(of: pid)
        try store.save(record)
    }

}
