import ContainerCore
import Sandbox
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension NativeBackend {
    /// `start`: writing a byte into the exec FIFO releases the init, which execs the
    /// user's program; then poststart hooks run. `justCreated`: this process received
    /// the init's `ready` a moment ago, so the status check is skipped (if the init
    /// died since, the FIFO open below says so).
    func start(_ record: ContainerRecord, justCreated: Bool) throws {
        let id = record.id
        try (justCreated ? .created : status(of: record)).canStart()
        let fifoPath = store.fifoPath(of: id)
        let fifo: FileDescriptor
        do {
            // Non-blocking: with no reader (the init died) this fails at once with ENXIO.
            fifo = try FileDescriptor.open(fifoPath, O_WRONLY | O_NONBLOCK)
        } catch let e as SystemError where e.errno == ENXIO {
            throw RuntimeError("cannot start container \(id): its init process has exited")
        }
        try fifo.write([0])
        fifo.close()
        try Files.remove(fifoPath)
        runtime.didStart(record)
    }
}
