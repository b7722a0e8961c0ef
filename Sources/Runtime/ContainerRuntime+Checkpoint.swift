import ContainerCore
import Linux
import OCI

/// runc's `checkpoint` and `restore`: the façade finds the container (or, for restore,
/// the bundle's backend) and hands it to its engine (Native/NativeBackend+Checkpoint
/// with CRIU, Gvisor/GvisorBackend+Checkpoint with runsc).
extension ContainerRuntime {
    /// `checkpoint`: saves a running (or paused) container into `options.imagePath`;
    /// unless `leaveRunning`, the container is then ended and deleted, as runc does.
    public func checkpoint(id: String, options: CheckpointOptions) throws {
        try locked(id) { try $0.checkpoint($1, options: options) }
    }

    /// Why an agent sandbox is not checkpointed or restored by the native backend once
    /// CRIU runs (where it does not, CRIU's own refusal comes first): its warden and
    /// egress listeners are processes outside the init's tree that hold its network
    /// namespace, and a restore would need its ephemeral root seeded and a new warden
    /// started around `criu restore`, which the gvisor backend does around `runsc
    /// restore` (docs/checkpoint.md, "Agent sandboxes").
    static func sandboxCheckpointRefusal(_ id: String) -> RuntimeError {
        RuntimeError("\(id): an agent sandbox is checkpointed and restored on the gvisor backend only (natively its warden and egress listeners are outside the tree CRIU saves)")
    }

    /// `restore`: a new running container `id` from the bundle in `options` and the
    /// checkpoint in `checkpoint.imagePath`. Detached, returns 0 once it runs;
    /// otherwise waits for it as `run` does and returns its exit code.
    public func restore(id: String, options: CreateOptions, checkpoint: CheckpointOptions, detach: Bool,
                        subreaper: Bool = true) throws -> Int32 {
        try ContainerID.validate(id)
        if Files.exists(store.directory(of: id)) {
            throw RuntimeError("container \(id): container with given ID already exists", kind: .containerExists)
        }
        let image = Bundle.absolute(checkpoint.imagePath)
        guard Files.isDirectory(image) else {
            throw RuntimeError("--image-path \(checkpoint.imagePath): no checkpoint directory there")
        }
        let bundle = try prepared(Bundle.load(options.bundle), id: id)
        let (backend, config) = try selectBackend(for: bundle.spec)
        switch backend {
        case .gvisor:
            if let flag = checkpoint.criuOnlyFlags.first {
                throw RuntimeError("\(flag): not supported by the gvisor backend (runsc restore loads the sandbox itself, without CRIU)")
            }
            guard Files.exists(image + "/checkpoint.img") else {
                throw RuntimeError("--image-path \(checkpoint.imagePath): no gvisor checkpoint (checkpoint.img) there")
            }
            return try GvisorBackend(runtime: self).create(id: id, bundle: bundle, options: options, config: config,
                                                           mode: detach ? .runDetached : .runForeground, restoreImage: image)
        case .native:
            if bundle.overlay != nil || ((try? sandboxes?.treatment(for: bundle.spec, id: id)) ?? nil) != nil {
                // CRIU's own refusal first, where it cannot run at all.
                try Criu.locate(checkpoint.criu).check()
                throw Self.sandboxCheckpointRefusal(id)
            }
            return try native.restore(id: id, bundle: bundle, options: options, checkpoint: checkpoint,
                                      detach: detach, subreaper: subreaper)
        }
    }
}
