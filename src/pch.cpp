// The translation unit that builds finfuse's precompiled header (src/pch.h).
