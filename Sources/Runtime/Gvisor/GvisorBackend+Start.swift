import ContainerCore

extension GvisorBackend {
    /// `start`: only a created container starts (`runsc start`, GvisorBackend+Create).
    func start(_ record: ContainerRecord, justCreated: Bool) throws {
        try state(of: record).status.canStart()
        try startSandbox(record)
    }
}
