import ContainerCore
import Cgroups
import Linux
import OCI

extension NativeBackend {
    /// `checkpoint` with CRIU (`criu dump` of the init's tree), given what runc gives
    /// it: the root, the bind mounts as external mounts, a joined network namespace as
    /// external, the cgroup to freeze, and the init's stdio written beside the images
    /// (`descriptors.json`, runc's file) so restore can hand new ones in their place.
    /// Without `--leave-running` (or with `--pre-dump`, which always leaves it) the
    /// dumped container is then deleted, as runc deletes it.
    func checkpoint(_ record: ContainerRecord, options: CheckpointOptions) throws {
        try status(of: record).canCheckpoint()
        if record.ephemeralRoot || record.wardenPid > 0 {
            // CRIU's own refusal first, where it cannot run at all (this machine's).
            try Criu.locate(options.criu).check()
            throw ContainerRuntime.sandboxCheckpointRefusal(record.id)
        }
        if options.pageServer != nil || options.statusFd != nil, !options.lazyPages {
            throw RuntimeError("--page-server and --status-fd go with --lazy-pages")
        }
        try Criu.checkCgroupsMode(options.manageCgroupsMode)
        let criu = try Criu.locate(options.criu)
        try criu.check()
        let spec = try store.loadConfig(record.id)
        let image = Bundle.absolute(options.imagePath)
        let work = options.workPath.map(Bundle.absolute) ?? image
        try stage("--image-path \(options.imagePath)") { try Files.makeDirectories(image, mode: 0o755) }
        try stage("--work-path \(work)") { try Files.makeDirectories(work, mode: 0o755) }
        var args = Criu.commonArguments(options, imagePath: image, workPath: work,
                                        logName: options.preDump ? "predump.log" : "dump.log")
        args += ["--tree", String(record.pid), "--root", record.rootfs]
        for mount in Criu.bindMounts(of: spec) {
            args += ["--external", "mnt[\(mount.destination)]:\(mount.destination)"]
        }
        if let netns = Criu.joinedNetworkNamespace(of: spec) {
            let inode = try stage("network namespace \(netns)") { try Files.status(netns).st_ino }
            args += ["--external", "net[\(inode)]:extRootNetNS"]
        }
        // The freezer CRIU uses instead of stopping each task with ptrace (runc's choice).
        if let freezer = record.cgroupPaths.first(where: { Files.exists($0 + "/freezer.state") || Files.exists($0 + "/cgroup.freeze") }) {
            args += ["--freeze-cgroup", freezer]
        }
        if let parent = options.parentPath { args += ["--prev-images-dir", parent] }
        if options.preDump { args.append("--track-mem") }
        if options.leaveRunning && !options.preDump { args.append("--leave-running") }
        if let server = options.pageServer {
            let parts = server.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, Int(parts[1]) != nil else {
                throw RuntimeError("--page-server \(server): not ADDRESS:PORT")
            }
            args += ["--page-server", "--address", parts[0], "--port", parts[1]]
        }
        if let fd = options.statusFd { args += ["--status-fd", String(fd)] }
        try writeDescriptors(of: record.pid, into: image)
        let logFile = work + "/" + (options.preDump ? "predump.log" : "dump.log")
        try criu.run(options.preDump ? "pre-dump" : "dump", args, logFile: logFile)
        runtime.recordAudit(record.annotations, record.id, "checkpoint",
                            ["image": .string(image), "leaveRunning": .string(options.leaveRunning ? "true" : "false")])
        if options.leaveRunning || options.preDump { return }
        // CRIU killed the dumped tree: what is left is the container's state.
        _ = Processes.waitForExit(record.pid, timeout: 10)
        runtime.recordEnd(record)
        try destroy(record)
    }

    /// runc's `descriptors.json`: what the init's 0, 1 and 2 were (`/dev/null`,
    /// `pipe:[N]`, a pty), read by restore to pass its own in their place.
    private func writeDescriptors(of pid: Int32, into image: String) throws {
        let targets = (0...2).map { (try? Files.readLink("/proc/\(pid)/fd/\($0)")) ?? "/dev/null" }
        try stage("\(image)/descriptors.json") { try Files.writeAtomically(image + "/descriptors.json", Array(jsonArray(targets).utf8), mode: 0o644) }
    }
}
