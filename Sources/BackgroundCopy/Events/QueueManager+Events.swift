extension QueueManager {
    /// Delivers events to `observer` until the calling task is cancelled (the QMGR callback's
    /// counterpart). Its position is kept durably under `name`: after a restart, calling this again
    /// with the same name resumes after the last event the observer accepted.
    ///
    /// - Parameters:
    ///   - observer: Receives each event the group's notify flags allow, in order.
    ///   - name: A stable name for this observer, 1 to 256 characters.
    ///   - redeliveryDelay: How long to wait before offering an event again after the observer threw.
    /// - Throws: `invalidArgument` for a bad name; `storage` if the database fails. Returns normally
    ///   when the task is cancelled.
    public func deliverEvents(to observer: some QueueObserver, as name: String, redeliveryDelay: Duration = .seconds(1)) async throws(QueueError) {
        guard !name.isEmpty, name.unicodeScalars.count <= 256 else {
            throw .invalidArgument("observer name must be 1 to 256 characters", value: name)
        }
        let outbox = Outbox(core: core)
        var acknowledged = try await outbox.position(of: name)
        var stamp = try core.store.changeStamp()
        while !Task.isCancelled {
            let batch = try await outbox.events(after: acknowledged, limit: 256, filtered: true)
            if batch.isEmpty {
                do throws(QueueError) {
                    stamp = try await outbox.waitForChange(since: stamp)
                } catch _ where Task.isCancelled {
                    return
                }
                continue
            }
            for event in batch {
                while true {
                    do {
                        try await observer.queueManager(self, didRecord: event)
                        break
                    } catch {
                        core.logger.info(
                            "observer did not accept an event; offering it again later",
                            metadata: ["observer": "\(name)", "sequence": "\(event.sequence)"])
                        do { try await Task.sleep(for: redeliveryDelay) } catch { return }
                    }
                }
                acknowledged = event.sequence
                try await outbox.acknowledge(name, through: acknowledged)
                if Task.isCancelled { return }
            }
        }
    }

    /// A stream of the events the groups' notify flags allow, starting after the last one
    /// acknowledged under `name`. An event counts as acknowledged when the consumer asks for the
    /// next one, so one that was being handled when the process died is delivered again.
    /// The stream ends when the consuming task is cancelled.
    public func events(as name: String) -> AsyncStream<QueueEvent> {
        let cursor = EventCursor(outbox: Outbox(core: core), name: name)
        return AsyncStream(unfolding: { await cursor.next() })
    }

    /// The outbox as it stands: every event after `sequence`, unfiltered by notify flags, at most `limit`.
    public func recordedEvents(after sequence: Int64 = 0, limit: Int = 1000) throws(QueueError) -> [QueueEvent] {
        try Outbox(core: core).events(after: sequence, limit: limit, filtered: false)
    }
}

/// The position of one ``QueueManager/events(as:)`` stream: acknowledges the event handed out
/// last when the next one is asked for.
private actor EventCursor {
    let outbox: Outbox
    let name: String
    private var acknowledged: Int64?
    private var handedOut: Int64?
    private var buffer: [QueueEvent] = []

    init(outbox: Outbox, name: String) {
        self.outbox = outbox
        self.name = name
    }

    func next() async -> QueueEvent? {
        do throws(QueueError) {
            if acknowledged == nil { acknowledged = try await outbox.position(of: name) }
            if let handedOut {
                try await outbox.acknowledge(name, through: handedOut)
                acknowledged = handedOut
                self.handedOut = nil
            }
            var stamp = try outbox.core.store.changeStamp()
            while buffer.isEmpty {
                buffer = try await outbox.events(after: acknowledged ?? 0, limit: 256, filtered: true)
                if buffer.isEmpty { stamp = try await outbox.waitForChange(since: stamp) }
            }
            let event = buffer.removeFirst()
            handedOut = event.sequence
            return event
        } catch {
            if !Task.isCancelled { outbox.core.logger.info("event stream ended", metadata: ["error": "\(error)"]) }
            return nil
        }
    }
}
