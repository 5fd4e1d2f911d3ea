# Ours, not the formula's: an image has no kernel of its own, so the
# pillar.example's host settings (transparent huge pages in /sys, the
# vm.overcommit_memory sysctl) are for the machine that runs it.
redis:
  disable_transparent_huge_pages: False
  overcommit_memory: False
