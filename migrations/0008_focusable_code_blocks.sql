-- Code blocks rendered before this release get tabindex="0", as new renders do,
-- so that one that scrolls sideways can be scrolled from the keyboard.
update questions set prompt_html = replace(prompt_html, '<pre><code', '<pre tabindex="0"><code')
where prompt_html like '%<pre><code%';
update questions set good_answer_html = replace(good_answer_html, '<pre><code', '<pre tabindex="0"><code')
where good_answer_html like '%<pre><code%';
update notes set body_html = replace(body_html, '<pre><code', '<pre tabindex="0"><code')
where body_html like '%<pre><code%';
