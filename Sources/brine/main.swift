import BrineCore
print("brine")
