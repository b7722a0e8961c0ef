import Foundation

extension Process {
    /// Runs the process and returns a semaphore that is signalled once it has exited
    /// (and been reaped). Foundation's `waitUntilExit()` on Linux spins the run loop in
    /// 50 ms slices and so returns up to 50 ms late: measured as 54 ms for `/bin/true`
    /// against 5 ms this way, which made every runtime call of the service (a create
    /// runs four) and every command that much slower. The termination handler is called
    /// as soon as Foundation's SIGCHLD source has reaped the child.
    func start() throws -> DispatchSemaphore {
        let exited = DispatchSemaphore(value: 0)
        terminationHandler = { _ in exited.signal() }
        try run()
        return exited
    }
}
