import Testing

/// How a suite's tests share the machine's cores with the rest of a `swift test` run.
///
/// Plain `swift test` starts every test at once (Swift Testing sets no limit on its parallelism)
/// and `.serialized` orders only the tests of one suite, so on a two-core machine forty transfers,
/// servers and child processes would share two cores. Tests that run the engine, a server or child
/// processes, or keep a core busy for seconds, keep real-time promises (a suspended transfer stops
/// within a second, a group completes within 20 s) that hold only when the cores are theirs: they
/// run ``alone``, one test case at a time with no other test of either kind beside it. Quick tests
/// of the store and the API run ``alongside`` each other, in parallel, never beside one that runs
/// alone. A suite without either trait is not held back.
public struct MachineShare: SuiteTrait, TestTrait, TestScoping {
    enum Kind: Sendable {
        case alone
        case alongside
    }

    let kind: Kind

    /// Given to a suite, the trait reaches every test in it and in its nested suites.
    public var isRecursive: Bool { true }

    /// A `.serialized` suite takes its share once for all its tests, which run one at a time
    /// anyway, so a test's time limit never counts the wait for the machine. Elsewhere each test
    /// case takes its own share, and a suite or a test function as a whole takes none: a suite whose
    /// tests run in parallel must not hold the machine while its own cases wait for it.
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        if test.isSuite { return test.traits.contains { $0 is ParallelizationTrait } ? self : nil }
        return testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        // A case of a suite that holds the share, or under two suites with the trait, takes none.
        guard Self.held == nil else { return try await function() }
        await MachineGate.shared.enter(kind)
        do {
            try await Self.$held.withValue(kind, operation: function)
        } catch {
            await MachineGate.shared.leave(kind)
            throw error
        }
        await MachineGate.shared.leave(kind)
    }

    @TaskLocal private static var held: Kind?
}

extension Trait where Self == MachineShare {
    /// Each test case runs with no other test beside it that has ``MachineShare`` (engines,
    /// servers, child processes, long CPU-bound loops).
    public static var alone: Self { MachineShare(kind: .alone) }
    /// Test cases run in parallel with each other, but never beside one that runs ``alone``
    /// (quick tests of the store and the API).
    public static var alongside: Self { MachineShare(kind: .alongside) }
}

/// The one gate of the test process: any number of ``MachineShare/Kind/alongside`` holders or one
/// ``MachineShare/Kind/alone`` holder. Waiting quick tests go first when the gate opens: they are
/// all started at once at the beginning of a run and are done in seconds.
actor MachineGate {
    static let shared = MachineGate()

    private var alongside = 0
    private var alone = false
    private var waitingAlongside: [CheckedContinuation<Void, Never>] = []
    private var waitingAlone: [CheckedContinuation<Void, Never>] = []

    func enter(_ kind: MachineShare.Kind) async {
        switch kind {
        case .alongside:
            guard alone else {
                alongside += 1
                return
            }
            await withCheckedContinuation { waitingAlongside.append($0) }
        case .alone:
            guard alone || alongside > 0 else {
                alone = true
                return
            }
            await withCheckedContinuation { waitingAlone.append($0) }
        }
    }

    /// Hands the gate on: a waiter is counted in before it is resumed, so no newcomer slips past.
    func leave(_ kind: MachineShare.Kind) {
        switch kind {
        case .alongside: alongside -= 1
        case .alone: alone = false
        }
        guard !alone, alongside == 0 else { return }
        if !waitingAlongside.isEmpty {
            alongside = waitingAlongside.count
            for waiter in waitingAlongside { waiter.resume() }
            waitingAlongside = []
        } else if !waitingAlone.isEmpty {
            alone = true
            waitingAlone.removeFirst().resume()
        }
    }
}
