import{a,b as o,c as r}from"./chunk-O6ZTGXNT.js";import"./chunk-OF2LQNYR.js";import"./chunk-3RNHDNP5.js";export{r as default,a as en,o as kaa};
