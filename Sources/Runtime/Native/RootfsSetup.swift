import ContainerCore
import Cgroups
import Linux
import OCI

/// The container's file-system view: its mounts, /dev, the switch of root, and the
/// read-only and masked paths. Runs inside the container's new mount namespace.
struct RootfsSetup<K: Kernel> {
    /// Every privileged call goes through it (HostKernel; a recording fake in tests).
    let kernel: K
    let spec: Spec
    let rootfs: String
    let bundle: String
    /// sysfs mounts wait for the network namespace the runtime makes (see deferredMounts).
    var sysfsWaits = false
    /// In a user namespace devices cannot be created (mknod): they are bind-mounted.
    let userNamespace: Bool
    let newCgroupNamespace: Bool
    /// The host's hierarchies and the container's directory in each (bound when there
    /// is no cgroup namespace), as the runtime reported them.
    let cgroups: CgroupPlacementBox
    /// Bind sources the runtime opened on the host side (attached from descriptors).
    var bindSources = HostBindSources.none

    var mounts: [Mount] { spec.mounts ?? [] }

    /// Mounts everything under the rootfs, before pivot_root. `beforeCgroupMount`
    /// runs before the first "cgroup" mount (it must see the container's cgroups).
    /// `beforeSysfsMount` runs before each "sysfs" mount (sysfs shows the network
    /// namespace of whoever mounts it).
    func prepare(beforeSysfsMount: () throws -> Void = {}, beforeCgroupMount: () throws -> Void) throws {
        // Keep the container's mount events from reaching the host: "/" becomes
        // rslave, then what rootfsPropagation asks for (RootPropagation.beforeSwitch).
        let requested = spec.linux?.rootfsPropagation
        try stage("make / \(requested ?? "rslave")") {
            for flags in RootPropagation.beforeSwitch(requested) {
                try kernel.mount(source: "", target: "/", type: nil, flags: flags)
            }
        }
        if RootPropagation.needsPrivateParent(requested) {
            // pivot_root refuses a shared parent of the new root, or a shared "/".
            try stage("make the rootfs's parent mount private") {
                let parent = try RootPropagation.mountPoint(holding: rootfs, kernel: kernel)
                try kernel.mount(source: "", target: parent, type: nil, flags: .private)
                if parent != "/" { try kernel.mount(source: "", target: "/", type: nil, flags: .private) }
            }
        }
        // pivot_root needs the new root to be a mount point.
        try stage("bind rootfs \(rootfs)") {
            try kernel.mount(source: rootfs, target: rootfs, type: "bind", flags: [.bind, .recursive])
        }
        // Held open from here (after the bind: the descriptor must name the new mount).
        try MountTarget.holdingRoot(rootfs) {
            try prepareMounts(beforeSysfsMount: beforeSysfsMount, beforeCgroupMount: beforeCgroupMount)
        }
    }

    private func prepareMounts(beforeSysfsMount: () throws -> Void, beforeCgroupMount: () throws -> Void) throws {
        // A cgroup mount needs the runtime to have made the container's cgroups, which
        // takes it milliseconds (a cgroup mkdir per hierarchy), and a sysfs mount may
        // need the network namespace the runtime is making. Such mounts that nothing
        // else depends on are done last, after the devices, so that the waits overlap
        // with the rest of the set-up; the others keep their place.
        let deferred = deferredMounts()
        for (index, mount) in mounts.enumerated() where !deferred[index] {
            if mount.type == "cgroup" { try beforeCgroupMount() }
            if mount.type == "sysfs" { try beforeSysfsMount() }
            try stage("mount mounts[\(index)] \(mount.destination)") { try self.mount(mount, index: index) }
        }
        if needsDeviceSetup {
            let devices = DeviceSetup(kernel: kernel, rootfs: rootfs, devices: spec.linux?.devices ?? [], bindFromHost: userNamespace)
            try stage("create devices") { try devices.create() }
        }
        for index in mounts.indices where deferred[index] {
            if mounts[index].type == "cgroup" { try beforeCgroupMount() }
            if mounts[index].type == "sysfs" { try beforeSysfsMount() }
            try stage("mount mounts[\(index)] \(mounts[index].destination)") { try self.mount(mounts[index], index: index) }
        }
        // The working directory exists before the user's program runs (runc creates it too).
        let cwd = spec.process?.cwd ?? "/"
        try stage("create cwd \(cwd)") { try Files.makeDirectories(try SecureJoin.resolve(cwd, in: rootfs)) }
    }

    /// Mounts that wait for something the runtime is making: cgroup mounts (the
    /// container's cgroup directories) and, when the runtime makes the network
    /// namespace (`sysfsWaits`), sysfs mounts (sysfs shows its mounter's network).
    var waitingTypes: [String] { sysfsWaits ? ["cgroup", "sysfs"] : ["cgroup"] }

    /// The mounts that move to the end, in their own order, so that the waits overlap
    /// with the rest of the set-up: each of `waitingTypes` not under /dev (which the
    /// device set-up fills) with no later mount that stays in place lying under it or
    /// over it (the order of such a pair is visible). Later mounts are decided first,
    /// so sysfs at /sys moves together with a cgroup mount under it. Without a user
    /// namespace devices are nodes, not mounts, so the mount table keeps runc's order.
    /// (A flag per mount, not a Set<Int>: the first Set of a type costs a scan of
    /// the binary's conformance records, and this runs in the init.)
    func deferredMounts() -> [Bool] {
        var deferred = [Bool](repeating: false, count: mounts.count)
        for index in mounts.indices.reversed() where waitingTypes.contains(mounts[index].type ?? "") {
            let dest = PathText.normalize(mounts[index].destination)
            if dest == "/dev" || dest.hasPrefix("/dev/") { continue }
            let clash = mounts.indices[(index + 1)...].contains { later in
                guard !deferred[later] else { return false }
                let other = PathText.normalize(mounts[later].destination)
                return other == dest || other.hasPrefix(dest + "/") || dest.hasPrefix(other + "/") || other == "/"
            }
            deferred[index] = !clash
        }
        return deferred
    }

    /// runc sets /dev up unless it is bind-mounted from the host.
    var needsDeviceSetup: Bool {
        !mounts.contains { $0.destination == "/dev" && MountOptions($0.options ?? []).isBind }
    }

    /// Mounts one spec entry at its destination inside the rootfs, through a descriptor
    /// of the destination (MountTarget: no path is followed between check and mount).
    func mount(_ mount: Mount, index: Int? = nil) throws {
        var options = MountOptions(mount.options ?? [])
        let type = mount.type ?? (options.isBind ? "bind" : "")
        // Mounted writable, made read-only in finish(): see readOnlyLater.
        if Self.readOnlyLater(mount) { options.flags.remove(.readOnly) }
        let destination = mount.destination
        if type == "cgroup" {
            try mountCgroups(at: try MountTarget.open(destination, in: rootfs, making: .directory), options: options)
            return
        }
        if options.isBind || type == "bind" {
            try bindMount(mount, options: options, tree: index.flatMap { bindSources.tree(at: $0) })
        } else {
            let target = type == "proc" || type == "sysfs"
                ? try MountTarget.openOrdinaryDirectory(destination, in: rootfs, filesystem: type)
                : try MountTarget.open(destination, in: rootfs, making: .directory)
            let source = mount.source ?? type
            do {
                try mountAt(target, source: source, type: type, flags: options.flags, data: options.dataString)
            } catch let e as SystemError where e.code == .notPermitted && type == "sysfs" {
                // In a user namespace that does not own a network namespace the kernel
                // refuses a new sysfs; bind the host's read-only instead, as runc does.
                try mountAt(target, source: "/sys", type: "bind", flags: [.bind, .recursive])
                try mountAt(try MountTarget.reopen(destination, in: rootfs), source: "", type: nil,
                            flags: [.bind, .remount, .readOnly, .recursive, .noSuid, .noDev, .noExec])
            }
        }
        if !options.propagation.isEmpty {
            let mounted = try MountTarget.reopen(destination, in: rootfs)
            for p in options.propagation { try mountAt(mounted, source: "", type: nil, flags: p) }
        }
        if options.hasRecursiveAttributes {
            try setRecursiveAttributes(options, on: try MountTarget.reopen(destination, in: rootfs))
        }
        if PathText.normalize(destination) == "/" { try MountTarget.reopenHeldRoot() }
    }

    /// A read-only tmpfs, or a read-only /dev, is mounted writable and made read-only
    /// last (finish), as runc does: /dev needs its device nodes, symlinks and the
    /// mount points of /dev/pts, /dev/shm... made in it, and any tmpfs may have mounts
    /// below it whose mount points must be made.
    static func readOnlyLater(_ mount: Mount) -> Bool {
        guard (mount.options ?? []).contains(where: { $0 == "ro" }),
              MountOptions(mount.options ?? []).flags.contains(.readOnly) else { return false }
        return mount.type == "tmpfs" || PathText.normalize(mount.destination) == "/dev"
    }

    /// The "r" attributes of config.md (rro, rnosuid...) on the mount at `target` and
    /// every mount below it, in one mount_setattr(AT_RECURSIVE).
    private func setRecursiveAttributes(_ options: MountOptions, on target: MountTarget) throws {
        let done: Bool
        do {
            done = try kernel.setMountAttributes(target.path, set: options.recursiveSet, clear: options.recursiveClear, recursive: true)
        } catch let e as SystemError {
            throw SystemError(call: e.call, path: rootfs + target.destination, errno: e.errno)
        }
        if !done {
            throw RuntimeError("mount \(target.destination): recursive mount options (rro, rnosuid...) need mount_setattr (Linux 5.12)")
        }
    }

    /// mount(2) onto the target's descriptor; a failure names the spec's destination.
    private func mountAt(_ target: MountTarget, source: String, type: String?, flags: MountFlags, data: String? = nil) throws {
        do {
            try kernel.mount(source: source, target: target.path, type: type, flags: flags, data: data)
        } catch let e as SystemError {
            throw SystemError(call: e.call, path: rootfs + target.destination, errno: e.errno)
        }
    }

    private func bindMount(_ mount: Mount, options: MountOptions, tree: FileDescriptor?) throws {
        guard var source = mount.source, !source.isEmpty else {
            throw RuntimeError("bind mount needs a source")
        }
        if !source.hasPrefix("/") { source = bundle + "/" + source }
        let kind = try HostBindSources.kind(of: tree, orOf: source)
        let target = try MountTarget.open(mount.destination, in: rootfs, making: kind)
        var flags = options.flags
        flags.insert(.bind)
        if let tree { try HostBindSources.attach(tree, at: target, in: rootfs) } else {
        try mountAt(target, source: source, type: "bind", flags: flags.intersection([.bind, .recursive]))
        }
        // Bind mounts ignore other flags on the first call: apply them in a remount,
        // keeping the flags the kernel locked (nosuid, nodev... of the source).
        let extra = flags.subtracting([.bind, .recursive, .remount])
        if !extra.isEmpty {
            let mounted = try MountTarget.reopen(mount.destination, in: rootfs)
            let locked = userNamespace ? kernel.mountFlags(of: mounted.path).intersection([.noSuid, .noDev, .noExec, .noAtime, .noDirAtime, .relatime]) : []
            var remount = extra.union(locked).union([.bind, .remount])
            if flags.contains(.recursive) { remount.insert(.recursive) }
            try mountAt(mounted, source: "", type: nil, flags: remount)
        }
    }

    /// A "cgroup" mount: the v2 hierarchy on a unified host; on v1 and hybrid hosts a
    /// tmpfs holding one mount per v1 hierarchy, as runc lays it out. With a private
    /// cgroup namespace each is mounted fresh (the namespace scopes it); otherwise the
    /// container's own cgroup directory is bind-mounted so the host tree stays hidden.
    private func mountCgroups(at target: MountTarget, options: MountOptions) throws {
        let cgroupLayout = cgroups.placement.layout
        if cgroupLayout.v1.isEmpty {
            try mountAt(target, source: "cgroup", type: "cgroup2", flags: options.flags)
            return
        }
        let flags = options.flags.subtracting(.readOnly)
        try mountAt(target, source: "tmpfs", type: "tmpfs", flags: flags, data: "mode=755")
        // The fresh tmpfs is this process's alone: paths below it cannot be swapped.
        let tmpfs = try MountTarget.reopen(target.destination, in: rootfs)
        // The binds take the spec's flags in one mount_setattr over the whole tmpfs
        // afterwards (and one more to make the tmpfs writable again) instead of a
        // remount each: 2 system calls instead of 9 here. Not in a user namespace,
        // where a remount must carry the flags the kernel locked (see bindMount), and
        // not on a kernel without mount_setattr (setBindFlags says so).
        func remount(_ dest: String) throws {
            try kernel.mount(source: "", target: dest, type: nil, flags: options.flags.union([.bind, .remount]))
        }
        var bound: [String] = []
        for h in cgroupLayout.v1 {
            let dest = tmpfs.path + "/" + h.name
            try Files.makeDirectories(dest)
            if newCgroupNamespace {
                try kernel.mount(source: "cgroup", target: dest, type: "cgroup", flags: options.flags, data: h.procKey)
            } else {
                guard let path = cgroups.placement.paths[h.procKey] else { continue }
                try kernel.mount(source: path, target: dest, type: "bind", flags: [.bind])
                if userNamespace { try remount(dest) } else { bound.append(dest) }
            }
        }
        if !bound.isEmpty, try !setBindFlags(below: tmpfs.path, to: options.flags) {
            for dest in bound { try remount(dest) }
        }
        // A read-only cgroup mount makes the tmpfs holding the hierarchies read-only
        // too (runc remounts the cgroup root read-only): nothing can be created or
        // mounted beside them. Only the tmpfs itself: the hierarchies keep their flags.
        if options.flags.contains(.readOnly) {
            try mountAt(tmpfs, source: "", type: nil, flags: flags.union([.bind, .remount, .readOnly]))
        }
    }

    /// Exactly `flags`' per-mount attributes on every mount below `tmpfs` (as a bind
    /// remount with them would set), the tmpfs itself keeping its own: false, changing
    /// nothing, on a kernel without mount_setattr.
    private func setBindFlags(below tmpfs: String, to flags: MountFlags) throws -> Bool {
        let attributes = flags.intersection(Mounts.attributeFlags)
        let clear = Mounts.attributeFlags.subtracting(attributes).subtracting([.noAtime, .relatime, .strictAtime])
        guard try kernel.setMountAttributes(tmpfs, set: attributes, clear: clear, recursive: true) else { return false }
        // The recursive call made the tmpfs itself read-only too: writable again, as mounted.
        if attributes.contains(.readOnly) {
            _ = try kernel.setMountAttributes(tmpfs, set: [], clear: .readOnly, recursive: false)
        }
        return true
    }

    // MARK: switching root

    /// pivot_root into the rootfs and detach the old root (runc's fd-based variant,
    /// which needs no directory for the old root inside the image).
    func enterRoot(noPivot: Bool) throws {
        try switchRoot(noPivot: noPivot)
        // The requested propagation of the new root itself; before the switch it could
        // not be shared (see RootPropagation).
        if let propagation = RootPropagation.afterSwitch(spec.linux?.rootfsPropagation) {
            try stage("make / \(spec.linux?.rootfsPropagation ?? "")") {
                try kernel.mount(source: "", target: "/", type: nil, flags: propagation)
            }
        }
    }

    private func switchRoot(noPivot: Bool) throws {
        if noPivot {
            try NoPivotRoot.hideHostPseudoFilesystems(outside: rootfs, kernel: kernel)
            try kernel.changeDirectory(rootfs)
            try kernel.mount(source: rootfs, target: "/", type: nil, flags: .move)
            try kernel.changeRoot(".", naming: rootfs)
            try kernel.changeDirectory("/")
            return
        }
        let oldRoot = try FileDescriptor.openDirectory("/")
        let newRoot = try FileDescriptor.openDirectory(rootfs)
        try kernel.changeDirectory(to: newRoot, naming: rootfs)
        try kernel.pivotRoot(".", ".")
        try kernel.changeDirectory(to: oldRoot, naming: "old root")
        // Make the old root a slave before detaching, so the unmount does not
        // propagate back to the host's mounts.
        try kernel.mount(source: "", target: ".", type: nil, flags: [.slave, .recursive])
        try kernel.unmount(".", detach: true)
        try kernel.changeDirectory("/")
    }

    /// With no mount namespace of its own, the container can only chroot.
    func enterRootWithoutMountNamespace() throws {
        try kernel.changeRoot(rootfs, naming: rootfs)
        try kernel.changeDirectory("/")
    }

    // MARK: after the switch

    /// Read-only and masked paths, then the read-only root: the last changes to the
    /// file-system view (they follow sysctl, which writes under /proc/sys).
    func finish() throws {
        let linux = spec.linux
        for path in linux?.readonlyPaths ?? [] {
            try stage("readonly path \(path)") { try makeReadOnly(path) }
        }
        for path in linux?.maskedPaths ?? [] {
            try stage("masked path \(path)") { try mask(path) }
        }
        for (index, mount) in mounts.enumerated() where Self.readOnlyLater(mount) {
            try stage("mount mounts[\(index)] \(mount.destination) read-only") {
                try makeMountReadOnly(PathText.normalize(mount.destination))
            }
        }
        if spec.root?.readonly ?? false {
            try stage("read-only root") { try makeMountReadOnly("/") }
        }
    }

    // Both try the mount and read the error, as runc does, instead of checking the
    // path first: a path this kernel lacks (ENOENT) is skipped in one system call
    // rather than two or three, for the dozen default paths of every container.

    private func makeReadOnly(_ path: String) throws {
        do {
            try kernel.mount(source: path, target: path, type: "bind", flags: [.bind, .recursive])
        } catch let e as SystemError where e.code == .noSuchFileOrDirectory {
            return
        }
        // mount_setattr adds read-only and leaves the other flags (and those the kernel
        // locked) as they are: no statfs first, and the mounts below it too.
        try makeMountReadOnly(path, recursive: true)
    }

    /// The mount at `path` (with `recursive`, and those below) read-only, keeping its
    /// other flags, and those the kernel locked in a user namespace.
    private func makeMountReadOnly(_ path: String, recursive: Bool = false) throws {
        if try kernel.setMountAttributes(path, set: .readOnly, recursive: recursive) { return }
        let flags = kernel.mountFlags(of: path).union([.bind, .remount, .readOnly])
        try kernel.mount(source: "", target: path, type: nil, flags: recursive ? flags.union(.recursive) : flags)
    }

    /// A file is covered by /dev/null; a directory (the bind fails with ENOTDIR) by
    /// an empty read-only tmpfs.
    private func mask(_ path: String) throws {
        do {
            try kernel.mount(source: "/dev/null", target: path, type: "bind", flags: .bind)
        } catch let e as SystemError where e.code == .noSuchFileOrDirectory {
            return
        } catch let e as SystemError where e.code == .notDirectory {
            try kernel.mount(source: "tmpfs", target: path, type: "tmpfs", flags: .readOnly)
        }
    }
}
