-- The candidate's whiteboard in a round: the Excalidraw scene they draw (its
-- JSON, as the editor reloads it) and the drawing as SVG, sanitised by the
-- server before it is stored (domain::whiteboard), for the views without
-- script, the feedback page and the exports. Written only by the round's
-- candidate, with a version number so that concurrent edits are detected (as
-- notes and code are), never overwritten.
create table round_scene (
    round_id uuid primary key references rounds (id) on delete cascade,
    scene text not null,
    -- The latest image the browser exported, and the version of the scene it
    -- shows: a save sent as the page closes has no time to export one, and
    -- keeps the one before (the editor exports it again when next opened).
    svg text,
    svg_version integer,
    version integer not null,
    updated_at timestamptz not null default now(),
    constraint round_scene_version_positive check (version > 0),
    constraint round_scene_svg_has_version check ((svg is null) = (svg_version is null) and svg_version <= version),
    -- domain::whiteboard allows 600 000 bytes of scene and 900 000 of sanitised SVG; the database a little more.
    constraint round_scene_scene_size check (octet_length(scene) <= 1000000),
    constraint round_scene_svg_size check (octet_length(svg) <= 1000000)
);

create trigger round_scene_updated_at before update on round_scene
    for each row execute function set_updated_at();
