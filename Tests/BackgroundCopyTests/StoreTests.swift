import CSQLite
import Foundation
import Testing
@testable import BackgroundCopy

@Suite("Store: opening, schema, transactions")
struct StoreTests {
    @Test func openCreatesTheDatabaseWithMode0600() throws {
        let scratch = Scratch()
        _ = try scratch.open()
        let attributes = try FileManager.default.attributesOfItem(atPath: scratch.database)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}
