import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The JSON ledger the `QueueExerciser` test-support executable prints.
private struct Ledger: Decodable {
    struct GroupLedger: Decodable {
        let files: Int
        let description: String
        let cancelled: Bool
    }

    let calls: Int
    let failures: [String]
    let groups: [String: GroupLedger]
    let sharedFiles: Int
    let started: Int
    let ended: Int
}

/// A second engine in another process is refused by `CLITests+Run`
/// (`runRefusesToStartWhileAnotherEngineRunsOnTheQueue`); this suite covers two processes calling the API.
@Suite("Two processes on one queue", .serialized, .alone)
struct TwoProcessTests {
    @Test func twoProcessesMakingAThousandMixedCallsEachLoseNoUpdateAndSeeNoBusyError() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let shared = try await manager.createGroup(properties: GroupProperties(displayName: "shared"))
        let sharedJob = try await shared.createJob()
        let startAt = Int(Date().timeIntervalSince1970 * 1000) + 2000
        let processes = try ["first", "second"].map { tag in
            try CLI.start(
                [
                    "--calls", "1000", "--tag", tag, "--shared-group", shared.id.description,
                    "--shared-job", sharedJob.id.description, "--directory", scratch.directory,
                    "--start-at", "\(startAt)",
                ], scratch, executable: CLI.exerciser)
        }
        var ledgers: [Ledger] = []
        for process in processes {
            let result = await process.finish(timeout: .seconds(120))
            try #require(result.status == 0, "\(result)")
            ledgers.append(try JSONDecoder().decode(Ledger.self, from: Data(result.stdout.utf8)))
        }

        #expect(
            ledgers[0].started < ledgers[1].ended && ledgers[1].started < ledgers[0].ended,
            "the two processes' calls overlapped in time: \(ledgers.map { ($0.started, $0.ended) })")
        for ledger in ledgers {
            #expect(ledger.calls == 1000)
            #expect(ledger.failures.isEmpty, "calls failed (SQLITE_BUSY would show as storage): \(ledger.failures.prefix(5))")
        }
        let reopened = try scratch.open()
        for (id, expected) in ledgers.flatMap(\.groups) {
            let groupID = try #require(GroupID(id))
            if expected.cancelled {
                #expect(throws: QueueError.self) { try reopened.group(groupID) }
                #expect(try query(scratch.database, "SELECT state FROM groups WHERE uuid = x'\(groupID.uuid.hexDigits)'") == [["cancelled"]])
                continue
            }
            let group = try await reopened.group(groupID)
            await #expect(try group.jobs().first?.fileCount() == expected.files, "group \(id)")
            await #expect(try group.properties().description == expected.description, "group \(id)")
        }
        let sharedCount = ledgers.reduce(0) { $0 + $1.sharedFiles }
        #expect(sharedCount > 300, "both processes wrote to the shared job")
        await #expect(try reopened.group(shared.id).job(sharedJob.id).fileCount() == sharedCount)
        #expect(
            try query(
                scratch.database,
                "SELECT count(DISTINCT position), min(position), max(position) FROM files f "
                    + "JOIN jobs j ON f.job_id = j.id WHERE j.uuid = x'\(sharedJob.id.uuid.hexDigits)'")
                == [["\(sharedCount)", "0", "\(sharedCount - 1)"]])
        #expect(try query(scratch.database, "PRAGMA integrity_check") == [["ok"]])
    }
}

extension UUID {
    /// The 16 bytes as hex, for SQL blob literals.
    fileprivate var hexDigits: String {
        withUnsafeBytes(of: uuid) { Array($0) }.hexString
    }
}
