import CSQLite
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Issue 7's validation row "priority out of range": the API cannot express one (``Priority`` is
/// an enum), the command line refuses one naming it, decoding refuses one, and the database itself
/// refuses one written behind the library's back.
@Suite("Validation: priority out of range", .alongside)
struct PriorityRangeTests {
    @Test(arguments: [-1, 4, 7, 99, Int.max])
    func noPriorityExistsOutsideForegroundToLow(raw: Int) throws {
        #expect(Priority(rawValue: raw) == nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Priority.self, from: Data("\(raw)".utf8)) }
    }

    @Test(arguments: ["7", "-1", "urgent", "LOWEST"])
    func theCommandLineRefusesAPriorityOutOfRangeNamingItAndCreatesNothing(value: String) async throws {
        let scratch = Scratch()
        _ = try scratch.open()
        let before = try tableDigest(scratch.database)
        let result = try await CLI.run(["create", "ranked", "--priority=\(value)"], scratch)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(value), "\(result.stderr)")
        #expect(try tableDigest(scratch.database) == before)
    }

    @Test func theDatabaseRefusesAPriorityOutOfRangeWrittenBehindTheLibrarysBack() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "ranked"))
        let before = try tableDigest(scratch.database)
        var db: OpaquePointer?
        #expect(sqlite3_open_v2(scratch.database, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK)
        defer { sqlite3_close_v2(db) }
        let result = sqlite3_exec(db, "UPDATE groups SET priority = 4", nil, nil, nil)
        #expect(result & 0xFF == SQLITE_CONSTRAINT, "SQLite result \(result)")
        #expect(try tableDigest(scratch.database) == before)
        #expect(try group.properties().priority == .normal)
    }
}
