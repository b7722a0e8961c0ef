import Linux
import OCI

/// An engine that runs containers: what each lifecycle verb does once the façade has
/// loaded the container's record (and taken its lock where the verb changes it).
///
/// The façade (`Runtime`) picks the backend once, from the record's `backend`, and
/// calls it; no verb asks which backend it is in. Each backend derives the status its
/// own way (the native one from the init process, gvisor from runsc) and checks it
/// with the shared rules (ContainerStatus+Transitions) before it acts, so a refusal
/// reads the same whichever engine runs the container.
public protocol ContainerBackend {
    /// The container's status now and the pid engines see as its init (0 once stopped).
    func state(of record: ContainerRecord) -> (status: ContainerStatus, pid: Int32)
    /// `start`. `justCreated`: this process made the container a moment ago (`run`),
    /// so the status need not be derived again.
    func start(_ record: ContainerRecord, justCreated: Bool) throws
    /// `kill`: the init, or with `all` every process of the container.
    func kill(_ record: ContainerRecord, signal: Signal, all: Bool) throws
    /// `delete`: its processes (with `force`), its state, its poststop hooks.
    func delete(_ record: ContainerRecord, force: Bool) throws
    /// `pause` (`true`) and `resume` (`false`).
    func pause(_ record: ContainerRecord, _ pause: Bool) throws
    /// `exec`: another process in the container; attached, its exit code.
    func exec(_ record: ContainerRecord, options: ExecOptions) throws -> Int32
    /// `ps --format json`: the host pids of the container's processes.
    func processIDs(of record: ContainerRecord) throws -> [Int32]
    /// `ps` (table), with the host's `ps` arguments where the backend uses them.
    func processTable(of record: ContainerRecord, psArguments: [String]) throws -> String
    /// `update`: new resource limits for a live container.
    func update(_ record: ContainerRecord, resources: LinuxResources) throws
    /// `checkpoint`: the container's processes and memory into `options.imagePath`;
    /// unless `leaveRunning` (or `preDump`), the container is then ended and deleted,
    /// as runc does.
    func checkpoint(_ record: ContainerRecord, options: CheckpointOptions) throws
    /// `events` (`stats`: `events --stats`) by the backend's own means, replacing this
    /// process; false when the caller is to read the container's cgroups itself.
    func delegateEvents(of record: ContainerRecord, stats: Bool, interval: String) throws -> Bool
}
