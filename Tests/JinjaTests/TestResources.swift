import Foundation

/// Test data lives next to the sources in `Resources/`. It is found through
/// `#filePath`, so the tests work whether or not the package declares the
/// directory as a resource bundle.
enum TestResources {
    static func url(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources").appendingPathComponent(name)
    }
}
