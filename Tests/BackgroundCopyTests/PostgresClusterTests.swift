import BackgroundCopyTesting
import Foundation
import Testing
import TestScheduling

@Suite("PostgreSQL: the throwaway test cluster", .serialized, .alone)
struct PostgresClusterTests {
    @Test(.timeLimit(.minutes(2)))
    func aClusterStartsOnALoopbackPortWithFsyncOnAndStopsLeavingNothingBehind() throws {
        let cluster = try PostgresCluster.start()
        let settings = try cluster.psql(
            database: "postgres",
            command: "SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('listen_addresses'), current_setting('port')")
        #expect(settings.trimmingCharacters(in: .whitespacesAndNewlines) == "on|on|127.0.0.1|\(cluster.port)")
        // initdb and postgres refuse root: as root, the cluster belongs to nobody.
        if geteuid() == 0 {
            let owner = try FileManager.default.attributesOfItem(atPath: cluster.directory + "/data")[.ownerAccountName] as? String
            #expect(owner == "nobody")
        }
        #expect(cluster.startupDuration < .seconds(60), "starting a cluster took \(cluster.startupDuration): over a minute of test setup")

        try cluster.stop()
        #expect(!FileManager.default.fileExists(atPath: cluster.directory))
        #expect(!PostgresCluster.isListening(port: cluster.port))
        try cluster.stop()
        #expect(cluster.isStopped)
    }

    @Test(.timeLimit(.minutes(2)))
    func theSharedClusterGivesEachTestItsOwnDatabase() throws {
        let cluster = try PostgresCluster.shared()
        #expect(try PostgresCluster.shared() === cluster)
        let first = try cluster.createDatabase()
        let second = try cluster.createDatabase()
        #expect(first != second)
        try cluster.psql(database: first, command: "CREATE TABLE only_here (x integer)")
        let tables = "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'"
        #expect(try cluster.psql(database: first, command: tables).hasPrefix("1"))
        #expect(try cluster.psql(database: second, command: tables).hasPrefix("0"))
    }

    @Test func withoutTheServerProgramsTheFailureNamesTheAptPackage() {
        do {
            let found = try PostgresCluster.binDirectory(environment: ["PATH": "/nonexistent"], debianRoot: "/nonexistent")
            Issue.record("found server programs in \(found)")
        } catch {
            #expect(error.description.contains("apt-get install -y --no-install-recommends postgresql"))
        }
    }
}

extension PostgresCluster {
    /// Whether anything listens on the loopback port right now.
    static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
