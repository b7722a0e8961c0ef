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

    /// Why an agent sandbox is neither checkpointed nor restored by these verbs, on
    /// either backend. Natively its warden and egress listeners are processes outside
    /// the container's tree that hold its network namespace: CRIU would save a sandbox
    /// without its guard. On both, its ephemeral root's upper layer (what the sandbox
    /// wrote) is not part of the image, and a restore without it would meet a root that
    /// lost the files its memory refers to.
    static func sandboxCheckpointRefusal(_ id: String) -> RuntimeError {
        RuntimeError("\(id): an agent sandbox cannot be checkpointed or restored yet (its ephemeral root's upper layer and its warden are not saved with the image; natively its warden and egress listeners are outside CRIU's reach)")
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
        if bundle.overlay != nil { throw Self.sandboxCheckpointRefusal(id) }
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
            return try native.restore(id: id, bundle: bundle, options: options, checkpoint: checkpoint,
                                      detach: detach, subreaper: subreaper)
        }
    }
}
