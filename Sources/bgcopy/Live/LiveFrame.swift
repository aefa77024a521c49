import BackgroundCopy

/// What a live display shows at one moment: groups in display order, the file each transferring
/// group works on, and the events recorded since the previous frame.
struct LiveFrame: Sendable {
    var groups: [GroupSnapshot] = []
    var files: [GroupID: CurrentFile] = [:]
    var events: [QueueEvent] = []

    /// Reads the groups `include` accepts and their transferring files.
    static func read(_ manager: QueueManager, scope: Set<GroupID>?, include: (GroupSnapshot) -> Bool) throws -> LiveFrame {
        var frame = LiveFrame()
        frame.groups = try GroupSnapshot.all(manager, only: scope).filter(include)
        for group in frame.groups {
            if let file = try group.transferringFile() { frame.files[group.id] = file }
        }
        return frame
    }

    /// Events after `sequence` (all pages), for groups in `scope`.
    static func events(_ manager: QueueManager, after sequence: Int64, scope: Set<GroupID>?) throws -> [QueueEvent] {
        var events: [QueueEvent] = []
        var last = sequence
        while true {
            let page = try manager.recordedEvents(after: last, limit: 1000)
            events += page.filter { scope?.contains($0.groupID) ?? true }
            guard let next = page.last?.sequence, page.count == 1000 else { return events }
            last = next
        }
    }
}

/// Rates and ETAs for a live display, fed one frame at a time.
struct FrameRates {
    private var meter = RateMeter()

    mutating func record(_ frame: LiveFrame) {
        for group in frame.groups { meter.record(group.id.description, bytes: group.progress.bytesDone) }
        for file in frame.files.values { meter.record(file.rateKey, bytes: file.file.bytesDone) }
    }

    func rate(_ group: GroupSnapshot) -> Double? {
        group.status.state == .transferring ? meter.rate(group.id.description) : nil
    }

    func eta(_ group: GroupSnapshot) -> Double? {
        guard group.status.state == .transferring, group.progress.filesOfUnknownSize == 0 else { return nil }
        return meter.eta(group.id.description, done: group.progress.bytesDone, total: group.progress.bytesTotal)
    }

    func rate(_ file: CurrentFile) -> Double? { meter.rate(file.rateKey) }

    func eta(_ file: CurrentFile) -> Double? {
        meter.eta(file.rateKey, done: file.file.bytesDone, total: file.file.bytesTotal ?? file.file.sizeHint)
    }

    /// The sum of the transferring groups' rates.
    func total(_ frame: LiveFrame) -> Double? {
        let rates = frame.groups.compactMap(rate)
        return rates.isEmpty ? nil : rates.reduce(0, +)
    }
}
