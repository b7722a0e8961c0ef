import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The warm pool's lifecycle in the store: filling it, handing a sandbox out, adopting
/// a restarted service's, emptying it at stop.
///
/// What a sandbox gets at hand-out rather than at warm-up, and why that is enough: its
/// env is given to each command (`exec --env`), never to the idle init, so setting the
/// record's env is all there is to it; its metadata is the service's alone; its
/// deadline is the record's `expiresAt`, which the service enforces (the warden's own is
/// 576 h out, for every sandbox), so it starts at the hand-out. Its id is the one its
/// container got at warm-up (the runtime's name for it cannot change): random, and
/// seen by nobody before the hand-out.
extension SandboxStore {
    /// The pool's sandbox for the request, made ready for it; nil when the request is
    /// for no pool or its pool is empty (the caller makes one as before).
    func handOutWarm(_ request: CreateRequest) throws -> SandboxRecord? {
        guard !pool.targets.isEmpty, let real = WarmPool.Target.realPath(request.rootfs),
              let target = pool.target(policy: request.policy, rootfs: real) else { return nil }
        // The spec the request would get now: a waiting sandbox made from another (the
        // policy file changed since) is not handed out.
        let spec = try spec(policy: target.policy, rootfs: target.rootfs)
        defer { fillPool() }
        while true {
            let (taken, stale) = pool.take(target, spec: spec)
            discardWarm(stale)
            guard var record = taken else { return nil }
            // One killed while it waited (`agent stop-all`, the OOM killer) is passed over.
            guard kill(record.pid, 0) == 0 else {
                discardWarm([record])
                continue
            }
            let now = Date()
            record.warm = nil
            record.rootfs = request.rootfs
            record.env = request.env
            record.metadata = request.metadata
            record.createdAt = now
            record.expiresAt = now.addingTimeInterval(TimeInterval(request.timeout))
            do {
                try records.save(record)
            } catch {
                discardWarm([record])
                throw error
            }
            admit(record)
            return record
        }
    }

    /// Makes sandboxes until every pool is full, in the background, one at a time (a
    /// pool must not take the machine from the requests). Called at start, after each
    /// hand-out and by the reaper's tick (which retries a fill that failed).
    func fillPool() {
        guard !pool.targets.isEmpty else { return }
        poolQueue.async { [self] in
            while let (target, _) = pool.shortfall().first {
                let request = CreateRequest(policy: target.policy, rootfs: target.rootfs, env: [:],
                                            timeout: Self.maxTimeout, metadata: [:])
                do {
                    let spec = try spec(policy: target.policy, rootfs: target.rootfs)
                    let record = try launch(request, warm: true, spec: spec)
                    if !pool.add(target, .init(record: record, spec: spec)) {
                        removeWarm(record)
                    }
                } catch {
                    pool.failed(target)
                    FileHandle.standardError.write(Data("safehouse: serve: --warm \(target.policy):\(target.rootfs): \(error)\n".utf8))
                }
            }
        }
    }

    /// A pool sandbox of an earlier run of the service: back in its pool when the pool
    /// is still asked for, it still runs and has room; deleted otherwise.
    func adoptWarm(_ record: SandboxRecord) {
        var record = record
        if let target = pool.target(policy: record.policy, rootfs: record.rootfs),
           let state = runtime.state(record.id), state.status == "running",
           let spec = FileManager.default.contents(atPath: "\(records.bundle(record.id))/config.json") {
            record.pid = state.pid
            if pool.add(target, .init(record: record, spec: spec)) { return }
        }
        removeWarm(record)
    }

    /// Empties the pool at the service's stop: no sandbox made for it outlives the
    /// service. A fill under way finishes first (its sandbox is refused and deleted).
    func stopPool() {
        let idle = pool.stop()
        poolQueue.sync {}
        DispatchQueue.concurrentPerform(iterations: idle.count) { removeWarm(idle[$0]) }
    }

    private func discardWarm(_ stale: [SandboxRecord]) {
        guard !stale.isEmpty else { return }
        poolQueue.async { [self] in stale.forEach(removeWarm) }
    }

    private func removeWarm(_ record: SandboxRecord) {
        _ = runtime.delete(record.id)
        records.remove(record.id)
    }
}
