import ServiceLifecycle

/// The transfer engine as a swift-service-lifecycle `Service`, for hosts that run their parts in a
/// `ServiceGroup` (a server, a daemon).
///
/// On the group's graceful shutdown (SIGTERM, say, or `triggerGracefulShutdown()`) the engine
/// stops as ``QueueManager/run()`` does when its task is cancelled: every transfer commits a
/// checkpoint of the bytes it has durably written and stops, and ``run()`` returns normally. The next
/// run — in this process or another — resumes each file where it stopped. Cancelling the group
/// stops it the same way.
///
/// ```swift
/// let manager = try QueueManager(path: "/var/lib/myapp/queue.sqlite")
/// let group = ServiceGroup(services: [TransferService(manager), httpServer],
///                          gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct TransferService: Service {
    /// The queue whose engine the service runs.
    public let manager: QueueManager

    /// A service that runs `manager`'s transfer engine.
    public init(_ manager: QueueManager) {
        self.manager = manager
    }

    /// Runs the engine until the service group shuts down gracefully or is cancelled.
    ///
    /// - Throws: The ``QueueError`` that ``QueueManager/run()`` throws: `invalidState` if another
    ///   engine already runs on the database, `storage` if the database fails.
    public func run() async throws {
        let manager = manager
        try await cancelWhenGracefulShutdown {
            try await manager.run()
        }
    }
}
