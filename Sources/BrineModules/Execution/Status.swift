import BrineCore
import Foundation

/// Salt's `status` functions templates read.
public enum StatusModule: ExecutionModule {
    public static let name = "status"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("time", doc: "Return the current local time, formatted with strftime (default '%A, %d. %B %Y %I:%M%p').",
                          [Parameter("format", default: "%A, %d. %B %Y %I:%M%p")]) { a, _ in
            .string(LocalTime.format(a.string("format") ?? "%A, %d. %B %Y %I:%M%p", time(nil)))
        },
    ]
}
