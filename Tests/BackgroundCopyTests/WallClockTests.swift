import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The wall clock is a seam: a queue stamps its rows with ``QueueManager/Configuration/wallClock``,
/// so tombstone purges and timestamps follow an injected clock, not the machine's.
@Suite("Wall clock injected through the configuration", .alongside)
struct WallClockTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_577_836_800))  // 2020-01-01T00:00:00Z
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test func rowsAreStampedWithTheInjectedClock() throws {
        let scratch = Scratch()
        let clock = Clock()
        var configuration = QueueManager.Configuration()
        configuration.wallClock = { clock.now.withLock { $0 } }
        let manager = try scratch.open(configuration)
        try manager.createGroup(properties: GroupProperties(displayName: "stamped"))
        #expect(try query(scratch.database, "SELECT created_at, modified_at FROM groups") == [["1577836800000", "1577836800000"]])
    }

    @Test func purgeTombstonesComparesAgainstTheInjectedClock() throws {
        let scratch = Scratch()
        let clock = Clock()
        var configuration = QueueManager.Configuration()
        configuration.wallClock = { clock.now.withLock { $0 } }
        let manager = try scratch.open(configuration)
        let group = try manager.createGroup(properties: GroupProperties(displayName: "old"))
        try group.createJob().addFiles(scratch.specs(2, prefix: "old"))
        try group.cancel()
        let cancelledAt = clock.now.withLock { $0 }
        clock.advance(7 * 86_400)
        #expect(try manager.purgeTombstones(olderThan: cancelledAt.addingTimeInterval(-1)) == 0)
        #expect(try manager.purgeTombstones(olderThan: cancelledAt.addingTimeInterval(1)) == 1)
        #expect(try query(scratch.database, "SELECT count(*) FROM files") == [["0"]])
    }
}
