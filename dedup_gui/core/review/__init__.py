"""Review: duplicate groups in, the user's decisions carried out per file.

selection (keeper rules, marking, TrashPlan) -> actions (trash/move/quarantine, verified) with
actionlog (undo); export (JSON/CSV, reading results back), ignores ("not a duplicate"),
thumbnails (colour frames for the window, cached).
"""
