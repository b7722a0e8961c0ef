import ContainerCore
import Cgroups
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension NativeBackend {
    /// `restore` with CRIU (`criu restore` of the images into a new container `id`),
    /// given what runc gives it: the bundle's root, bind-mounted at a directory of the
    /// container's own (CRIU pivots into a mount), the bind mounts' sources by their
    /// destination, a joined network namespace to join, the cgroups made for the new
    /// container, and this process's stdio in place of the dumped pipes. The restored
    /// tree is detached from CRIU; in the foreground this process is its subreaper and
    /// waits for it as `run` does.
    func restore(id: String, bundle: Bundle, options: CreateOptions, checkpoint: CheckpointOptions,
                 detach: Bool, subreaper: Bool) throws -> Int32 {
        let spec = bundle.spec
        if options.consoleSocket != nil || spec.process?.terminal == true {
            throw RuntimeError("restore \(id): a container with a terminal is not restored by the native backend (CRIU's orphaned pty master is not passed on)")
        }
        if checkpoint.pageServer != nil || checkpoint.statusFd != nil {
            throw RuntimeError("--page-server and --status-fd are checkpoint flags")
        }
        try Criu.checkCgroupsMode(checkpoint.manageCgroupsMode)
        if Files.exists(Bundle.absolute(checkpoint.imagePath) + "/checkpoint.img") {
            throw RuntimeError("--image-path \(checkpoint.imagePath): a gvisor checkpoint (runsc's checkpoint.img): restore it on the gvisor backend")
        }
        let criu = try Criu.locate(checkpoint.criu)
        try criu.check()
        let image = Bundle.absolute(checkpoint.imagePath)
        let work = checkpoint.workPath.map(Bundle.absolute) ?? image
        let (cgroupsPath, _) = ContainerRuntime.cgroupsPath(of: spec, id: id, sandbox: false, systemdDriver: runtime.systemdCgroup)
        let cgroups = try stage("invalid configuration") {
            try CgroupManager(layout: .host(), cgroupsPath: cgroupsPath, id: id, systemdDriver: runtime.systemdCgroup)
        }
        let lock = try store.makeContainerDirectory(id)
        defer { lock.release() }
        let dir = store.directory(of: id)
        let criuRoot = dir + "/criu-root"
        var rootMounted = false
        do {
            try Files.writeAtomically(store.configPath(of: id), bundle.configBytes)
            try stage("cgroups of \(id)") { try cgroups.makeDirectories() }
            try Files.makeDirectories(criuRoot, mode: 0o755)
            try stage("bind \(bundle.rootfs) at \(criuRoot)") {
                try Mounts.mount(source: bundle.rootfs, target: criuRoot, type: nil, flags: [.bind, .recursive])
            }
            rootMounted = true
            var args = Criu.commonArguments(checkpoint, imagePath: image, workPath: work, logName: "restore.log")
            args += ["--root", criuRoot, "--restore-detached", "--pidfile", dir + "/criu.pid"]
            for mount in Criu.bindMounts(of: spec) {
                args += ["--ext-mount-map", "\(mount.destination):\(Self.hostSource(of: mount, bundle: bundle.path))"]
            }
            if let netns = Criu.joinedNetworkNamespace(of: spec) { args += ["--join-ns", "net:" + netns] }
            // The tree goes back into the new container's cgroup (relative to each
            // hierarchy's root, as CRIU takes it).
            args += ["--cgroup-root", cgroups.cgroupPath]
            args += try inheritedStdio(image: image)
            if !detach || subreaper { try ProcessControl.becomeChildSubreaper() }
            try criu.run("restore", args, logFile: work + "/restore.log")
            // The restored tree pivoted into it: the host's view goes (as runc's), so
            // that removing the state directory can never reach the bundle's root.
            try stage("unmount \(criuRoot)") { try Mounts.unmount(criuRoot, detach: true) }
            rootMounted = false
            _ = rmdir(criuRoot)
            let text = (try? Files.readString(dir + "/criu.pid")) ?? ""
            guard let pid = Int32(text.filter { $0.isNumber }), pid > 0, let start = Processes.startTime(of: pid) else {
                throw RuntimeError("criu restore wrote no pid to \(dir)/criu.pid")
            }
            var record = ContainerRecord(
                id: id, pid: pid, pidStartTime: start, bundle: bundle.path, rootfs: bundle.rootfs, created: Clock.rfc3339Now(),
                owner: Owner.name(of: getuid()), annotations: spec.annotations, hooks: spec.hooks,
                ownsPidNamespace: spec.linux?.namespaces?.contains { $0.type == .pid && ($0.path ?? "").isEmpty } ?? false,
                cgroupPaths: cgroups.paths)
            record.createdCgroupPaths = cgroups.paths
            try store.save(record)
            if let pidFile = options.pidFile { try Bundle.writePidFile(pidFile, pid: pid) }
            runtime.recordCreate(record, command: spec.process?.args)
            runtime.recordAudit(record.annotations, id, "restore", ["image": .string(image)])
            if detach { return 0 }
            lock.release()
            let waited = ContainerRuntime.forwardedSignals + [SIGCHLD]
            Signals.block(waited)
            let status = runtime.waitForInit(pid, forwarding: waited)
            try? destroy(record)
            return status.shellCode
        } catch {
            if rootMounted {
                // Never remove the directory while the bundle's root is mounted there.
                guard (try? Mounts.unmount(criuRoot, detach: true)) != nil else { throw error }
            }
            try? CgroupManager(paths: cgroups.paths).destroyTree()
            try? Files.removeTree(dir)
            throw error
        }
    }

    /// A bind mount's source on the host (relative ones are the bundle's).
    private static func hostSource(of mount: Mount, bundle: String) -> String {
        let source = mount.source ?? mount.destination
        return source.hasPrefix("/") ? source : bundle + "/" + source
    }

    /// CRIU's `--inherit-fd` for each of the dumped init's stdio that was a pipe
    /// (runc's descriptors.json): this process's own 0, 1 and 2 take their place.
    private func inheritedStdio(image: String) throws -> [String] {
        guard let text = try? Files.readString(image + "/descriptors.json") else { return [] }
        let targets = text.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        var args: [String] = []
        for (fd, target) in targets.prefix(3).enumerated() where target.hasPrefix("pipe:") {
            args += ["--inherit-fd", "fd[\(fd)]:\(target)"]
        }
        return args
    }
}
