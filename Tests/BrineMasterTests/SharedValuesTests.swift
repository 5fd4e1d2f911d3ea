import BrineCore
import Testing

@testable import BrineMaster

/// The registry keeps one copy of the grain values a fleet shares: content
/// never changes, storage is shared, the table stays bounded.
@Suite struct SharedValuesTests {
    func grains(_ id: String) -> Value {
        .map(["id": .string(id), "cpu_flags": .list((0..<200).map { .string("flag\($0)") }), "os": "Debian"])
    }

    func storage(_ value: Value?) -> UnsafeRawPointer? {
        guard case .list(let items)? = value else { return nil }
        return items.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func sharedValuesAreStoredOnce() {
        var shared = SharedValues()
        let first = shared.intern(grains("m1"), namespace: "grains")
        let second = shared.intern(grains("m2"), namespace: "grains")
        #expect(first == grains("m1") && second == grains("m2"))
        #expect(storage(first["cpu_flags"]) != nil && storage(first["cpu_flags"]) == storage(second["cpu_flags"]))
        // Pillar and grains are separate tables; a value that is not a map passes through.
        #expect(shared.intern(.string("x"), namespace: "pillar") == .string("x"))
    }

    @Test func theTableIsBounded() {
        var shared = SharedValues()
        var most = 0
        for index in 0..<(SharedValues.totalLimit + 10) {
            _ = shared.intern(.map(["k\(index % 1000)": .int(index)]), namespace: "grains")
            most = max(most, shared.count)
        }
        #expect(most == SharedValues.totalLimit && shared.count < SharedValues.totalLimit)
        for index in 0..<1000 { _ = shared.intern(.map(["id": .string("m\(index)")]), namespace: "grains") }
        #expect(shared.count(of: "id", namespace: "grains") == SharedValues.limit)
    }
}
