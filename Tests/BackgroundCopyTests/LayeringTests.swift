import Foundation
import Testing
import TestScheduling

/// The package's root folder, found from this file's path.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite("Layering: one layer owns the SQL", .alongside)
struct LayeringTests {
    /// Words that begin an SQL statement, as the library writes them.
    static let sql = #"\b(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA\s|BEGIN\s|COMMIT\b|ROLLBACK\b|SAVEPOINT\s)"#

    @Test func noSQLOutsideTheStoreLayer() throws {
        let library = packageRoot.appending(path: "Sources/BackgroundCopy")
        let files = try #require(FileManager.default.enumerator(atPath: library.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("Store/") }
        #expect(files.count > 20, "the library's files were found")
        let sql = try Regex(Self.sql)
        var offenders: [String] = []
        for file in files {
            let text = try String(contentsOf: library.appending(path: file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                if code.contains(sql) { offenders.append("\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))") }
            }
        }
        #expect(offenders.isEmpty, "SQL outside Sources/BackgroundCopy/Store:\n\(offenders.joined(separator: "\n"))")
    }
}
