extension Group {
    /// Sets the program the engine runs after each of the group's completion and error events
    /// (those its notify flags let through), or clears it with `nil` (BITS: SetNotifyCmdLine).
    /// Only events committed after this call run the new command.
    ///
    /// - Throws: `invalidArgument` naming the bad value — a program path that is not absolute, too
    ///   long or holds a control character, an argument holding NUL, too many or too long
    ///   arguments — and nothing is written; `notFound` if the group was cancelled.
    public func setNotifyCommand(_ command: NotifyCommand?) throws(QueueError) {
        if let command { try core.validator.validate(command) }
        let now = core.now()
        try core.store.write { [id] db throws(QueueError) in try db.setNotifyCommand(id, command, at: now) }
    }

    /// The `async` form of ``setNotifyCommand(_:)``: suspends, never blocks, while it waits for the writer.
    public func setNotifyCommand(_ command: NotifyCommand?) async throws(QueueError) {
        if let command { try core.validator.validate(command) }
        let now = core.now()
        try await core.store.write { [id] db throws(QueueError) in try db.setNotifyCommand(id, command, at: now) }
    }
}
